package io.ferry.cli;

import static io.ferry.cli.FerryCli.WATCH;
import static io.ferry.cli.FerryCli.enc;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ferry vm}: VMs, and the progress bar of a migration, suspend or resume with its outcome. */
@Command(name = "vm", mixinStandardHelpOptions = true, description = "Create, list, show, migrate (and watch a migration), suspend, resume, stop and delete VMs.")
final class VmCommand {
  static final String[] VM_COLUMNS = {"id", "owner", "stage", "flavour", "image", "node", "timeslot", "reason"};
  @ParentCommand FerryCli root;

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a VM (and place it on a timeslot with --timeslot).")
  int create(@Option(names = "--flavour", paramLabel = "FLAVOUR", required = true, description = "tiny, small, medium, large, xlarge or whole-node") String flavour,
      @Option(names = "--image", paramLabel = "IMAGE", required = true, description = "the image to boot") String image,
      @Option(names = "--id", paramLabel = "ID", description = "the VM's id (default: generated)") String id,
      @Option(names = "--mode", paramLabel = "MODE", description = "dynamic (ferried between timeslots; default) or static") String mode,
      @Option(names = "--timeslot", paramLabel = "TIMESLOT", description = "place it on this active timeslot of yours") String timeslot) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("flavour", flavour);
    body.put("image", image);
    if (id != null) body.put("id", id);
    if (mode != null) body.put("mode", mode);
    if (timeslot != null) body.put("timeslot", timeslot);
    Output.print(System.out, root.output, root.api().post("/v1/vms", body), VM_COLUMNS);
    return 0;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List your VMs (admins: all).")
  int list(@Option(names = {"-w", "--watch"}, description = WATCH) boolean watch) {
    return ListWatch.list(root, "/v1/vms", "vm", "/v1/vms/", watch, VM_COLUMNS);
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one VM.")
  int show(@Parameters(paramLabel = "ID") String id) {
    Output.print(System.out, root.output, root.api().get("/v1/vms/" + enc(id)), VM_COLUMNS);
    return 0;
  }

  @Command(name = "migrate", mixinStandardHelpOptions = true, description = "Migrate a running VM live to another timeslot, with a progress bar.")
  int migrate(@Parameters(paramLabel = "ID") String id,
      @Option(names = "--to", paramLabel = "TIMESLOT", required = true, description = "the target timeslot") String to,
      @Option(names = "--bandwidth", paramLabel = "MiB/s", description = "bandwidth cap in MiB/s") Long bandwidth,
      @Option(names = "--deadline", paramLabel = "SECONDS", description = "seconds before it is cancelled (or switched to post-copy)") Long deadline,
      @Option(names = "--post-copy", description = "switch to post-copy instead of cancelling at the deadline") boolean postCopy,
      @Option(names = "--no-wait", description = "return once it started") boolean noWait) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("timeslot", to);
    if (bandwidth != null) body.put("bandwidthMiBps", bandwidth);
    if (deadline != null) body.put("deadlineSeconds", deadline);
    if (postCopy) body.put("postCopy", true);
    if (noWait) {
      Output.print(System.out, root.output, root.api().post("/v1/vms/" + enc(id) + "/migrate", body), VM_COLUMNS);
      return 0;
    }
    return watch(root, "/v1/vms/" + enc(id) + "/migrate?watch=true", body, "migrating " + id);
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = "Follow a VM's migration in flight with a progress bar, whichever control member started it; exit 1 if it fails.")
  int watchMigration(@Parameters(paramLabel = "ID") String id) {
    return watch(root, "GET", "/v1/vms/" + enc(id) + "/progress", null, "migrating " + id);
  }

  @Command(name = "suspend", mixinStandardHelpOptions = true, description = "Save a running VM to shared storage and stop it.")
  int suspend(@Parameters(paramLabel = "ID") String id, @Option(names = "--no-wait", description = "return once it started") boolean noWait) {
    if (noWait) {
      Output.print(System.out, root.output, root.api().post("/v1/vms/" + enc(id) + "/suspend", Map.of()), VM_COLUMNS);
      return 0;
    }
    return watch(root, "/v1/vms/" + enc(id) + "/suspend?watch=true", Map.of(), "suspending " + id);
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a suspended VM on a timeslot.")
  int resume(@Parameters(paramLabel = "ID") String id, @Option(names = "--to", paramLabel = "TIMESLOT", required = true, description = "the timeslot") String to,
      @Option(names = "--no-wait", description = "return once it started") boolean noWait) {
    if (noWait) {
      Output.print(System.out, root.output, root.api().post("/v1/vms/" + enc(id) + "/resume", Map.of("timeslot", to)), VM_COLUMNS);
      return 0;
    }
    return watch(root, "/v1/vms/" + enc(id) + "/resume?watch=true", Map.of("timeslot", to), "resuming " + id);
  }

  @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a VM.")
  int stop(@Parameters(paramLabel = "ID") String id) {
    Output.print(System.out, root.output, root.api().post("/v1/vms/" + enc(id) + "/stop", Map.of()), VM_COLUMNS);
    return 0;
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a stopped or failed VM.")
  int delete(@Parameters(paramLabel = "ID") String id) {
    Output.print(System.out, root.output, root.api().delete("/v1/vms/" + enc(id)), VM_COLUMNS);
    return 0;
  }

  /**
   * Follows a watch stream: progress bar, then the final VM, then the outcome: an operation that
   * failed prints its reason and exits 1, whatever stage the VM is left in (a failed suspend
   * leaves it Running).
   */
  static int watch(FerryCli root, String path, Object body, String what) {
    return watch(root, "POST", path, body, what);
  }

  static int watch(FerryCli root, String method, String path, Object body, String what) {
    JsonNode[] done = new JsonNode[1];
    root.api().stream(method, path, body, line -> {
      switch (line.path("type").asText()) {
        case "progress" -> Output.progress(line.path("percent").asInt(), what);
        case "done" -> done[0] = line;
        default -> { }
      }
      return true;
    });
    if (done[0] == null) throw new CliFailure(CliFailure.FAILED, "the server ended the stream before " + what + " finished; check `ferry vm show`");
    JsonNode vm = done[0].path("vm");
    Output.print(System.out, root.output, vm, VM_COLUMNS);
    boolean failed = done[0].has("outcome") ? done[0].path("outcome").asText().equals("failed") : vm.path("stage").asText().equals("Failed");
    if (!failed) return 0;
    throw new CliFailure(CliFailure.FAILED, what + " failed: " + done[0].path("reason").asText("the VM is " + vm.path("stage").asText()));
  }
}
