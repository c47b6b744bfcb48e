package io.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;

/**
 * {@code ferry}: the command line of Ferry's HTTP API. Only the command group a call names is
 * built (picocli builds a command's model by reflection, and building every group took a third of
 * a call); {@code --help}, no command or an unknown one builds them all.
 */
@Command(name = "ferry", mixinStandardHelpOptions = true, version = "ferry 0.1.0",
    description = "Drives Ferry: VMs on HPC batch timeslots. Talks to a control member's HTTP API.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:Ferry refused or failed the request", "2:bad usage", "3:Ferry cannot be reached",
        "4:missing, wrong or insufficient token", "5:not found", "6:audit verify found violations"},
    footer = {"", "Server and token come from --server/--token, FERRY_SERVER/FERRY_TOKEN, or the config file",
        "($FERRY_CONFIG, default ~/.config/ferry/cli.json; `ferry config set` writes it).",
        "Shell completion: source <(ferry completion)"})
public final class FerryCli implements Callable<Integer> {
  /** The command groups, in the order --help lists them. */
  static final Map<String, Supplier<Object>> GROUPS = new LinkedHashMap<>();

  static {
    GROUPS.put("vm", VmCommand::new);
    GROUPS.put("slot", SlotCommand::new);
    GROUPS.put("node", NodeCommand::new);
    GROUPS.put("events", EventsCommand::new);
    GROUPS.put("audit", AuditCommand::new);
    GROUPS.put("policy", PolicyCommand::new);
    GROUPS.put("user", UserCommand::new);
    GROUPS.put("config", ConfigCommand::new);
    GROUPS.put("completion", CompletionCommand::new);
  }

  /** The root options that take a value: what {@link #group} skips to find the command's name. */
  private static final java.util.Set<String> VALUED = java.util.Set.of("--server", "--token", "-o", "--output");

  @Option(names = "--server", paramLabel = "URL", scope = ScopeType.INHERIT, description = "the API's URL (default from env or config, else http://127.0.0.1:8080)")
  String server;

  @Option(names = "--token", paramLabel = "TOKEN", scope = ScopeType.INHERIT, description = "your bearer token")
  String token;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", scope = ScopeType.INHERIT, defaultValue = "table", description = "table or json (default: table)")
  String output;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line in this JVM; returns its exit code (see --help). */
  public static int run(String... args) {
    CommandLine cli = commandLine(group(args));
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof CliFailure f) {
        System.err.println("error: " + f.getMessage());
        return f.exitCode;
      }
      System.err.println("error: " + e);
      return CliFailure.FAILED;
    });
    return cli.execute(args);
  }

  /** The command line with one group ({@code null} or an unknown name: all of them). */
  static CommandLine commandLine(String group) {
    CommandLine cli = new CommandLine(new FerryCli());
    boolean all = group == null || !GROUPS.containsKey(group);
    GROUPS.forEach((name, make) -> {
      if (all || name.equals(group)) cli.addSubcommand(name, make.get());
    });
    return cli;
  }

  /** The first word of {@code args} that is not a root option or its value: the command group named, or null. */
  static String group(String... args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (VALUED.contains(a)) i++;
      else if (!a.startsWith("-")) return a;
    }
    return null;
  }
  @Override
  public Integer call() {
    commandLine(null).usage(System.out);
    return 0;
  }

  ApiClient api() {
    CliConfig c = CliConfig.resolve(server, token);
    return new ApiClient(c.server(), c.token());
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static final String WATCH = "after the list, print each row again when it changes, until interrupted";

  static final String[] SLOT_COLUMNS = {"id", "owner", "stage", "backend", "node", "cores", "freeCores", "end", "vms"};

  @Command(name = "slot", mixinStandardHelpOptions = true, description = "List, show, request and release timeslots.")
  static final class SlotCommand {
    @ParentCommand FerryCli root;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List your timeslots (admins: all).")
    int list(@Option(names = {"-w", "--watch"}, description = WATCH) boolean watch) {
      return ListWatch.list(root, "/v1/timeslots", "timeslot", "/v1/timeslots/", watch, SLOT_COLUMNS);
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one timeslot.")
    int show(@Parameters(paramLabel = "ID") String id) {
      Output.print(System.out, root.output, root.api().get("/v1/timeslots/" + enc(id)), SLOT_COLUMNS);
      return 0;
    }

    @Command(name = "request", mixinStandardHelpOptions = true, description = "Ask the batch system for a timeslot.")
    int request(@Option(names = "--cores", paramLabel = "N", required = true, description = "cores") int cores,
        @Option(names = "--memory", paramLabel = "MiB", required = true, description = "memory in MiB") int memory,
        @Option(names = "--walltime", paramLabel = "DURATION", required = true, description = "minutes, or ISO-8601 like PT30M") String walltime,
        @Option(names = "--partition", paramLabel = "PARTITION", description = "batch partition") String partition,
        @Option(names = "--backend", paramLabel = "BACKEND", description = "batch backend (default: the server's)") String backend) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("cores", cores);
      body.put("memoryMiB", memory);
      body.put("walltime", walltime);
      if (partition != null) body.put("partition", partition);
      if (backend != null) body.put("backend", backend);
      Output.print(System.out, root.output, root.api().post("/v1/timeslots", body), SLOT_COLUMNS);
      return 0;
    }

    @Command(name = "release", mixinStandardHelpOptions = true, description = "Give a timeslot back.")
    int release(@Parameters(paramLabel = "ID") String id) {
      Output.print(System.out, root.output, root.api().post("/v1/timeslots/" + enc(id) + "/release", Map.of()), SLOT_COLUMNS);
      return 0;
    }
  }

  @Command(name = "node", mixinStandardHelpOptions = true, description = "List nodes.")
  static final class NodeCommand {
    @ParentCommand FerryCli root;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the nodes agents have registered.")
    int list(@Option(names = {"-w", "--watch"}, description = WATCH) boolean watch) {
      return ListWatch.list(root, "/v1/nodes", "node", "/v1/nodes/", watch, "id", "stage", "hostname", "cores", "memoryMiB", "capabilities");
    }
  }

  @Command(name = "events", mixinStandardHelpOptions = true,
      description = "Print journaled events (yours; admins: all). Without --follow it stops once it has caught up.")
  static final class EventsCommand implements Callable<Integer> {
    @ParentCommand FerryCli root;

    @Option(names = "--follow", description = "keep printing new events until interrupted") boolean follow;

    @Option(names = "--since", paramLabel = "OFFSET", description = "resume after this offset (from an event's 'offset')") String since;

    @Option(names = "--type", paramLabel = "TYPES", description = "entity types: vm, timeslot, node (comma-separated)") String type;

    @Option(names = "--event", paramLabel = "EVENTS", description = "event types, for example VmMigrated (comma-separated)") String event;

    @Option(names = "--id", paramLabel = "ID", description = "one entity's events") String id;

    @Override
    public Integer call() {
      StringBuilder q = new StringBuilder("/v1/events?format=ndjson");
      if (!follow) q.append("&heartbeat=1500");
      if (since != null) q.append("&since=").append(enc(since));
      if (type != null) q.append("&type=").append(enc(type));
      if (event != null) q.append("&event=").append(enc(event));
      if (id != null) q.append("&id=").append(enc(id));
      root.api().stream("GET", q.toString(), null, line -> {
        if (line.path("type").asText().equals("heartbeat")) return follow;
        if ("json".equals(root.output)) System.out.println(line);
        else System.out.printf("%s  %-8s %-24s #%-3d %-22s %s%n", line.path("time").asText(), line.path("entityType").asText(),
            line.path("entityId").asText(), line.path("sequenceNr").asLong(), line.path("eventType").asText(), line.path("offset").asText());
        System.out.flush();
        return true;
      });
      return 0;
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true, description = "Replay the journal: timelines, past states, invariants.")
  static final class AuditCommand {
    @ParentCommand FerryCli root;

    @Command(name = "vm", mixinStandardHelpOptions = true, description = "A VM's timeline with the cause of each step, and its state at --at.")
    int vm(@Parameters(paramLabel = "ID") String id, @Option(names = "--at", paramLabel = "TIME", description = "an ISO-8601 time (default: now)") String at) {
      return timeline("/v1/audit/vms/" + enc(id) + (at == null ? "" : "?at=" + enc(at)));
    }

    @Command(name = "slot", mixinStandardHelpOptions = true, description = "A timeslot's timeline, and its state at --at.")
    int slot(@Parameters(paramLabel = "ID") String id, @Option(names = "--at", paramLabel = "TIME", description = "an ISO-8601 time (default: now)") String at) {
      return timeline("/v1/audit/timeslots/" + enc(id) + (at == null ? "" : "?at=" + enc(at)));
    }

    private int timeline(String path) {
      JsonNode t = root.api().get(path);
      if ("json".equals(root.output)) {
        Output.print(System.out, "json", t);
        return 0;
      }
      Output.print(System.out, "table", t.path("steps"), "sequenceNr", "at", "event", "stageAfter", "cause", "by", "detail");
      System.out.println();
      System.out.println("state at " + t.path("at").asText() + ": " + (t.path("stateAt").isNull() ? "(did not exist)" : t.path("stateAt").path("stage").asText()
          + " " + t.path("stateAt")));
      return 0;
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Check invariants over the whole journal (admin); exit 6 naming each violation.")
    int verify() {
      JsonNode v = root.api().get("/v1/audit/verify");
      if ("json".equals(root.output)) Output.print(System.out, "json", v);
      else {
        System.out.println("checked " + v.path("entities").asInt() + " entities, " + v.path("events").asLong() + " events");
        for (JsonNode violation : v.path("violations")) System.out.println("VIOLATION " + violation.path("rule").asText() + ": " + violation.path("message").asText());
        if (v.path("ok").asBoolean()) System.out.println("ok: no violations");
      }
      return v.path("ok").asBoolean() ? 0 : CliFailure.VIOLATIONS;
    }
  }

  @Command(name = "user", mixinStandardHelpOptions = true, description = "Manage API users (on the control member's machine).")
  static final class UserCommand {
    @Command(name = "add", mixinStandardHelpOptions = true,
        description = "Add a user (or give one a new token) in the users file, and print the token once.")
    int add(@Parameters(paramLabel = "NAME") String name, @Option(names = "--admin", description = "an admin sees and controls everything") boolean admin,
        @Option(names = "--users-file", paramLabel = "FILE", description = "default: $FERRY_USERS_FILE or ~/.ferry/users.json") Path file) throws Exception {
      Path f = file != null ? file : Path.of(System.getenv().getOrDefault("FERRY_USERS_FILE", System.getProperty("user.home") + "/.ferry/users.json"));
      try {
        System.out.println(UsersFile.addUser(f, name, admin));
      } catch (IllegalArgumentException e) {
        throw new CliFailure(CliFailure.USAGE, e.getMessage());
      }
      return 0;
    }
  }

  @Command(name = "config", mixinStandardHelpOptions = true, description = "The CLI's saved server and token.")
  static final class ConfigCommand {
    @ParentCommand FerryCli root;

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Save --server and/or --token in the config file.")
    int set() {
      if (root.server == null && root.token == null) throw new CliFailure(CliFailure.USAGE, "give --server and/or --token to save");
      CliConfig.write(root.server, root.token);
      System.out.println("saved to " + CliConfig.file());
      return 0;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show what the CLI would use.")
    int show() {
      CliConfig c = CliConfig.resolve(null, null);
      System.out.println("config file: " + CliConfig.file());
      System.out.println("server: " + c.server());
      System.out.println("token: " + (c.token() == null ? "(none)" : c.token().substring(0, Math.min(6, c.token().length())) + "…"));
      return 0;
    }
  }

  @Command(name = "completion", mixinStandardHelpOptions = true,
      description = {"Print a bash (or zsh, with bashcompinit) completion script for ferry's commands and options.",
          "Use it with: source <(ferry completion), or save it under /etc/bash_completion.d/."})
  static final class CompletionCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      System.out.print(picocli.AutoComplete.bash("ferry", commandLine(null)));
      return 0;
    }
  }
}
