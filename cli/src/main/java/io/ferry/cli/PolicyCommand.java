package io.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferry.policies.DeadlineRules;
import io.ferry.policies.PolicyEngine;
import io.ferry.policies.PolicyView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ferry policy}: policy scripts. */
@Command(name = "policy", mixinStandardHelpOptions = true,
    description = "Policy scripts: apply (a new version each time), list, show, delete, and test one here before applying it.")
final class PolicyCommand {
  private static final ObjectMapper JSON = Json.MAPPER;

  @ParentCommand FerryCli root;

  static final String[] COLUMNS = {"id", "version", "scope", "stage"};

  @Command(name = "apply", mixinStandardHelpOptions = true,
      description = "Check a script in the sandbox and store it as your policy NAME's next version (a syntax error names its line).")
  int apply(@Parameters(paramLabel = "SCRIPT", description = "the policy script (JavaScript)") Path script,
      @Option(names = "--name", paramLabel = "NAME", description = "the policy's name (default: the file's name without .js)") String name,
      @Option(names = "--site", description = "a site-wide policy (admins)") boolean site,
      @Option(names = "--owner", paramLabel = "USER", description = "(admins) apply it as this user's policy") String owner) {
    String policy = name != null ? name : script.getFileName().toString().replaceFirst("\\.js$", "");
    var body = java.util.Map.of("source", read(script, "script"), "scope", site ? "site" : "user");
    JsonNode applied = root.api().send("PUT", "/v1/policies/" + FerryCli.enc(policy) + owner(owner), body);
    Output.print(System.out, root.output, applied, COLUMNS);
    return 0;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List your policies (admins: all).")
  int list() {
    Output.print(System.out, root.output, root.api().get("/v1/policies"), COLUMNS);
    return 0;
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a policy's current version and its source.")
  int show(@Parameters(paramLabel = "NAME") String name, @Option(names = "--owner", paramLabel = "USER", description = "(admins) another user's") String owner) {
    JsonNode p = root.api().get("/v1/policies/" + FerryCli.enc(name) + owner(owner));
    if (root.output.equals("json")) {
      Output.print(System.out, "json", p, COLUMNS);
    } else {
      Output.print(System.out, "table", p, COLUMNS);
      System.out.println();
      System.out.println(p.path("source").asText());
    }
    return 0;
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a policy (its versions stay in the journal).")
  int delete(@Parameters(paramLabel = "NAME") String name, @Option(names = "--owner", paramLabel = "USER", description = "(admins) another user's") String owner) {
    Output.print(System.out, root.output, root.api().delete("/v1/policies/" + FerryCli.enc(name) + owner(owner)), COLUMNS);
    return 0;
  }

  private static String owner(String owner) {
    return owner == null ? "" : "?owner=" + FerryCli.enc(owner);
  }

  @Command(name = "test", mixinStandardHelpOptions = true,
      description = {"Dry-run a policy script on a recorded event, here, without a server: print the actions it asks for, "
          + "whether Ferry's deadline rules would take each one and why, and its log lines. Nothing is applied.",
          "The event file is JSON: {\"type\": \"timeslot.expiring\", \"event\": {...}, \"view\": {...}}; --view gives the view separately."},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:the script decided", "1:the script failed (threw, ran past a limit, returned nonsense)",
          "2:bad usage, unreadable files, or a syntax error (with line and column)"})
  int test(@Parameters(paramLabel = "SCRIPT", description = "the policy script (JavaScript)") Path script,
      @Option(names = "--event", required = true, paramLabel = "FILE", description = "the recorded event") Path eventFile,
      @Option(names = "--view", paramLabel = "FILE", description = "the view (default: the event file's \"view\")") Path viewFile) {
    String source = read(script, "script");
    JsonNode recorded = parse(eventFile);
    String type = recorded.path("type").asText("");
    if (type.isEmpty()) throw new CliFailure(CliFailure.USAGE, eventFile + " has no \"type\" (for example \"timeslot.expiring\")");
    JsonNode view = viewFile != null ? parse(viewFile) : recorded.path("view");
    if (!view.isObject()) throw new CliFailure(CliFailure.USAGE, "no view: give --view FILE or a \"view\" object in " + eventFile);
    PolicyView typedView;
    try {
      typedView = JSON.treeToValue(view, PolicyView.class);
    } catch (IOException e) {
      throw new CliFailure(CliFailure.USAGE, "the view does not have the view's shape: " + e.getMessage());
    }
    // the site's limits (ferry.policies in the configuration: reference.conf, or -Dconfig.file)
    try (PolicyEngine engine = new PolicyEngine(PolicyEngine.Limits.of(com.typesafe.config.ConfigFactory.load()))) {
      String name = script.getFileName().toString();
      try {
        engine.check(name, source);
      } catch (PolicyEngine.ScriptError e) {
        throw new CliFailure(CliFailure.USAGE, name + ": " + e.getMessage());
      }
      PolicyEngine.Outcome outcome = engine.run(name, source, type, recorded.path("event").toString(), view.toString());
      if (outcome instanceof PolicyEngine.Outcome.Failed f) throw new CliFailure(CliFailure.FAILED, "the policy failed: " + f.reason());
      var decided = (PolicyEngine.Outcome.Decided) outcome;
      ArrayNode rows = JSON.createArrayNode();
      for (DeadlineRules.Verdict v : DeadlineRules.check(decided.actions(), typedView)) {
        ObjectNode row = JSON.valueToTree(v.action());
        row.put("action", v.action().getClass().getSimpleName());
        row.put("accepted", v.accepted());
        row.put("reason", v.reason());
        rows.add(row);
      }
      if (root.output.equals("json")) {
        ObjectNode all = JSON.createObjectNode();
        all.set("actions", rows);
        all.set("logs", JSON.valueToTree(decided.logs()));
        all.put("handlers", decided.handlers());
        all.put("tookMs", decided.tookMs());
        Output.print(System.out, "json", all, new String[0]);
      } else {
        System.out.println(decided.handlers() + " handler(s) of " + type + " ran in " + decided.tookMs() + " ms; nothing was applied");
        Output.print(System.out, "table", rows, new String[] {"action", "vmId", "timeslotId", "cores", "memoryMiB", "accepted", "reason"});
        decided.logs().forEach(l -> System.out.println("log: " + l));
      }
      return 0;
    }
  }

  private static String read(Path file, String what) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new CliFailure(CliFailure.USAGE, "cannot read the " + what + " " + file + ": " + e.getMessage());
    }
  }

  private static JsonNode parse(Path file) {
    try {
      return JSON.readTree(read(file, "file"));
    } catch (IOException e) {
      throw new CliFailure(CliFailure.USAGE, file + " is not JSON: " + e.getMessage());
    }
  }
}
