package io.ferry.nodeagent.driver.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.HypervisorException;
import io.ferry.nodeagent.driver.Incoming;
import io.ferry.nodeagent.driver.MigrationListener;
import io.ferry.nodeagent.driver.MigrationOutcome;
import io.ferry.nodeagent.driver.MigrationParams;
import io.ferry.nodeagent.driver.ProgressTracker;
import io.ferry.nodeagent.driver.SuspendOutcome;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.VmLaunch;
import io.ferry.nodeagent.driver.VmStatus;
import io.ferry.nodeagent.driver.VmExit;
import io.ferry.nodeagent.qmp.QmpClient;
import io.ferry.nodeagent.qmp.QmpException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives real QEMU: one process per VM incarnation, a direct child of the agent, controlled over
 * QMP. Overlays and suspend files live on shared storage ({@link QemuSettings#sharedDir()}) so any
 * node can take a VM over; sockets, console logs and QEMU's stderr stay in the node's
 * {@link QemuSettings#stateDir()}.
 */
public final class QemuDriver implements HypervisorDriver {
  private static final Logger log = LoggerFactory.getLogger(QemuDriver.class);
  static final long POLL_MS = 50;
  /** How long a QEMU whose QMP connection broke at start is given to exit on its own before it is killed. */
  static final Duration EXIT_GRACE = Duration.ofSeconds(3);

  private final QemuSettings settings;
  private final Map<String, QemuVm> live = new ConcurrentHashMap<>();

  public QemuDriver(QemuSettings settings) {
    this.settings = settings;
    try {
      Files.createDirectories(settings.stateDir());
      Files.createDirectories(settings.sharedDir().resolve("overlays"));
      Files.createDirectories(settings.sharedDir().resolve("suspend"));
    } catch (IOException e) {
      throw new HypervisorException("cannot create QEMU's folders under " + settings.stateDir() + " and "
          + settings.sharedDir() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String name() {
    return "qemu";
  }

  @Override
  public Set<String> capabilities() {
    return Set.of("qemu", "accel:" + settings.accel(), "live-migration", "postcopy", "auto-converge", "suspend");
  }

  @Override
  public VmHandle start(VmLaunch launch) {
    return launch(launch, null, MigrationParams.DEFAULT);
  }

  @Override
  public Incoming prepareIncoming(VmLaunch launch, MigrationParams params) {
    int port = freePort();
    String uri = "tcp:" + settings.migrationHost() + ":" + port;
    VmHandle handle = launch(launch, "defer", params);
    try {
      vm(handle).qmp.execute("migrate-incoming", Map.of("uri", uri));
    } catch (QmpException e) {
      stop(handle);
      throw new HypervisorException("VM " + launch.vmId() + ": the target QEMU would not listen on " + uri + ": " + e.getMessage(), e);
    }
    return new Incoming(handle, uri);
  }

  @Override
  public VmHandle resumeFrom(VmLaunch launch, Path file) {
    QemuCommand.checkPath(file);
    if (!Files.isRegularFile(file)) {
      throw new HypervisorException("VM " + launch.vmId() + " cannot be resumed: its suspend file " + file + " does not exist");
    }
    VmHandle handle = launch(launch, "exec:cat " + file, MigrationParams.DEFAULT);
    awaitRunning(handle, settings.resumeTimeout(), "resuming from " + file);
    return handle;
  }

  private VmHandle launch(VmLaunch launch, String incoming, MigrationParams params) {
    QemuImage image = QemuImage.find(settings.imagesDir(), launch.image());
    if (launch.memoryMiB() < image.minMemoryMiB()) {
      throw new HypervisorException("VM " + launch.vmId() + " would get " + launch.memoryMiB() + " MiB, but image '"
          + image.name() + "' needs at least " + image.minMemoryMiB() + " MiB to boot: choose a larger flavour");
    }
    Path overlay = overlay(launch, image);
    QemuCommand command = QemuCommand.of(settings, launch, image, overlay, incoming);
    Process process;
    try {
      process = new ProcessBuilder(command.arguments())
          .redirectErrorStream(true)
          .redirectOutput(command.stderr().toFile())
          .start();
    } catch (IOException e) {
      throw new HypervisorException("cannot run " + settings.binary() + ": " + e.getMessage()
          + " (install qemu-system-x86, or set ferry.agent.qemu.binary)", e);
    }
    VmHandle handle = new VmHandle(VmHandle.CURRENT_VERSION, name(), launch, process.pid(), command.instance(),
        Map.of("qmp", command.qmpSocket().toString(), "console", command.console().toString(),
            "stderr", command.stderr().toString(), "overlay", overlay.toString()));
    QmpClient qmp = connect(handle, process.toHandle(), command);
    live.put(handle.instance(), new QemuVm(handle, process.toHandle(), qmp, process));
    if (incoming != null && params.postCopy()) {
      setCapabilities(handle, params);
    }
    log.info("VM {}: QEMU pid {} started{} ({})", launch.vmId(), process.pid(),
        incoming == null ? "" : " for incoming " + incoming, command.instance());
    return handle;
  }

  private QmpClient connect(VmHandle handle, ProcessHandle process, QemuCommand command) {
    long deadline = System.nanoTime() + settings.qmpTimeout().toNanos();
    while (!Files.exists(command.qmpSocket())) {
      if (!process.isAlive()) throw exitedAtStart(handle, command.stderr());
      if (System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new HypervisorException("VM " + handle.vmId() + ": QEMU (pid " + process.pid() + ") did not open its QMP socket "
            + command.qmpSocket() + " within " + settings.qmpTimeout().toSeconds() + " s; killed it. "
            + QemuCommand.tail(command.stderr()));
      }
      sleep(POLL_MS / 2);
    }
    try {
      return QmpClient.connect(command.qmpSocket(), settings.qmpTimeout());
    } catch (QmpException e) {
      // A QEMU that fails at start (bad kernel, bad option) often closes its QMP socket while it exits:
      // give it a moment to finish exiting so the user sees QEMU's own message, not "connection reset".
      if (exitsWithin(process, EXIT_GRACE)) {
        HypervisorException exited = exitedAtStart(handle, command.stderr());
        exited.addSuppressed(e);
        throw exited;
      }
      process.destroyForcibly();
      throw new HypervisorException("VM " + handle.vmId() + ": " + e.getMessage() + "; killed QEMU pid " + process.pid()
          + ". " + QemuCommand.tail(command.stderr()), e);
    }
  }

  private static boolean exitsWithin(ProcessHandle process, Duration grace) {
    try {
      process.onExit().get(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    } catch (java.util.concurrent.ExecutionException e) {
      return !process.isAlive();
    }
  }

  private HypervisorException exitedAtStart(VmHandle handle, Path stderr) {
    return new HypervisorException("VM " + handle.vmId() + ": QEMU exited at start. " + QemuCommand.tail(stderr));
  }

  private Path overlay(VmLaunch launch, QemuImage image) {
    Path overlay = settings.sharedDir().resolve("overlays").resolve(launch.vmId() + ".qcow2");
    if (Files.exists(overlay)) return overlay;
    QemuCommand.run(List.of(settings.qemuImg(), "create", "-q", "-f", "qcow2", "-b", image.base().toString(),
        "-F", "qcow2", overlay.toString()), "creating the overlay of VM " + launch.vmId());
    return overlay;
  }

  @Override
  public void stop(VmHandle handle) {
    QemuVm vm = live.remove(handle.instance());
    if (vm != null) vm.stopping = true;
    ProcessHandle process = vm != null ? vm.process : ProcessHandle.of(handle.pid()).filter(p -> QemuCommand.isOurs(p, handle)).orElse(null);
    if (process == null || !process.isAlive()) return;
    if (vm != null && vm.qmp.isOpen()) {
      try {
        vm.qmp.execute("quit", Map.of(), Duration.ofSeconds(2));
      } catch (QmpException e) {
        log.debug("VM {}: quit: {}", handle.vmId(), e.getMessage());
      }
    }
    try {
      process.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("VM {}: QEMU pid {} did not quit within 5 s; killing it", handle.vmId(), process.pid());
      process.destroyForcibly();
    }
    if (vm != null) vm.qmp.close();
  }

  @Override
  public void pause(VmHandle handle) {
    vm(handle).qmp.execute("stop");
  }

  @Override
  public void resume(VmHandle handle) {
    vm(handle).qmp.execute("cont");
  }

  @Override
  public VmStatus inspect(VmHandle handle) {
    QemuVm vm = live.get(handle.instance());
    if (vm == null || !vm.process.isAlive()) return VmStatus.GONE;
    try {
      JsonNode migration = vm.qmp.execute("query-migrate");
      String m = migration.path("status").asText("");
      if (m.equals("active") || m.equals("setup") || m.equals("postcopy-active") || m.equals("device")) return VmStatus.MIGRATING;
      String status = vm.qmp.execute("query-status").path("status").asText();
      switch (status) {
        case "running": return VmStatus.RUNNING;
        case "inmigrate": return VmStatus.INCOMING;
        case "postmigrate": case "finish-migrate": case "shutdown": return VmStatus.FINISHED;
        default: return VmStatus.PAUSED;
      }
    } catch (QmpException.ConnectionLost e) {
      return VmStatus.GONE;
    }
  }

  @Override
  public MigrationOutcome migrate(VmHandle source, String targetUri, MigrationParams params, MigrationListener listener) {
    QemuVm vm = vm(source);
    setCapabilities(source, params);
    vm.qmp.execute("migrate-set-parameters", Map.of(
        "max-bandwidth", params.maxBandwidthBytesPerSec(), "downtime-limit", params.downtimeLimitMs()));
    vm.cancelRequested = false;
    vm.qmp.execute("migrate", Map.of("uri", targetUri));
    return QemuMigration.follow(vm, params, new ProgressTracker(listener), "migration to " + targetUri);
  }

  private void setCapabilities(VmHandle handle, MigrationParams params) {
    vm(handle).qmp.execute("migrate-set-capabilities", Map.of("capabilities", List.of(
        Map.of("capability", "auto-converge", "state", params.autoConverge()),
        Map.of("capability", "postcopy-ram", "state", params.postCopy()))));
  }

  @Override
  public List<InFlight> migrationsInFlight() {
    return live.values().stream().map(v -> v.migration).filter(java.util.Objects::nonNull).toList();
  }

  @Override
  public void cancelMigration(VmHandle source) {
    vm(source).cancelRequested = true;
  }

  @Override
  public VmHandle awaitIncoming(Incoming target, Duration timeout) {
    awaitRunning(target.handle(), timeout, "waiting for the incoming migration");
    return target.handle();
  }

  private void awaitRunning(VmHandle handle, Duration timeout, String what) {
    QemuVm vm = vm(handle);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!vm.process.isAlive()) {
        live.remove(handle.instance());
        throw new HypervisorException("VM " + handle.vmId() + ": QEMU exited while " + what + ". "
            + QemuCommand.tail(Path.of(handle.attribute("stderr"))));
      }
      String status;
      try {
        status = vm.qmp.execute("query-status").path("status").asText();
      } catch (QmpException.ConnectionLost e) {
        // The process check above explains it once QEMU has finished exiting; until then, wait.
        if (System.nanoTime() > deadline) throw new HypervisorException("VM " + handle.vmId()
            + ": lost QEMU's QMP connection while " + what + ": " + e.getMessage(), e);
        sleep(POLL_MS);
        continue;
      }
      if (status.equals("running")) return;
      if (status.equals("paused")) {
        vm.qmp.execute("cont");
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new HypervisorException("VM " + handle.vmId() + ": still '" + status + "' after " + timeout.toSeconds() + " s " + what);
      }
      sleep(POLL_MS);
    }
  }

  @Override
  public SuspendOutcome suspend(VmHandle handle, Path file) {
    QemuCommand.checkPath(file);
    QemuVm vm = vm(handle);
    try {
      Files.createDirectories(file.getParent());
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new HypervisorException("VM " + handle.vmId() + ": cannot write its suspend file " + file + ": " + e.getMessage(), e);
    }
    MigrationParams fast = new MigrationParams(10L << 30, 300, false, false, settings.suspendTimeout());
    setCapabilities(handle, fast);
    vm.qmp.execute("migrate-set-parameters", Map.of("max-bandwidth", fast.maxBandwidthBytesPerSec()));
    vm.qmp.execute("migrate", Map.of("uri", "exec:cat > " + file));
    MigrationOutcome outcome = QemuMigration.follow(vm, fast, new ProgressTracker(MigrationListener.NONE), "saving to " + file);
    if (!outcome.completed()) throw new HypervisorException("VM " + handle.vmId() + ": " + outcome.failure());
    stop(handle);
    try {
      return new SuspendOutcome(file.toString(), Files.size(file), outcome.totalMs());
    } catch (IOException e) {
      throw new HypervisorException("VM " + handle.vmId() + ": saved, but " + file + " cannot be read: " + e.getMessage(), e);
    }
  }

  @Override
  public VmHandle reattach(VmHandle saved) {
    if (saved.version() != VmHandle.CURRENT_VERSION || !saved.driver().equals(name())) {
      throw new HypervisorException("cannot re-attach VM " + saved.vmId() + ": its handle is version " + saved.version()
          + " of driver '" + saved.driver() + "', this is version " + VmHandle.CURRENT_VERSION + " of 'qemu'");
    }
    QemuVm known = live.get(saved.instance());
    if (known != null && known.process.isAlive()) return known.handle;
    ProcessHandle process = ProcessHandle.of(saved.pid()).filter(ProcessHandle::isAlive)
        .filter(p -> QemuCommand.isOurs(p, saved))
        .orElseThrow(() -> new HypervisorException("cannot re-attach VM " + saved.vmId() + ": its QEMU (pid "
            + saved.pid() + ") is gone"));
    QmpClient qmp = QmpClient.connect(Path.of(saved.attribute("qmp")), settings.qmpTimeout());
    live.put(saved.instance(), new QemuVm(saved, process, qmp, null));
    log.info("VM {}: re-attached to QEMU pid {}", saved.vmId(), saved.pid());
    return saved;
  }

  @Override
  public java.util.concurrent.CompletionStage<VmExit> whenExited(VmHandle handle) {
    QemuVm vm = live.get(handle.instance());
    if (vm == null) {
      return java.util.concurrent.CompletableFuture.completedFuture(new VmExit(true, "VM " + handle.vmId()
          + " (" + handle.instance() + ") is not run by this agent"));
    }
    return vm.exit;
  }

  @Override
  public void detachAll() {
    for (QemuVm vm : live.values()) vm.qmp.close();
    live.clear();
  }

  private QemuVm vm(VmHandle handle) {
    QemuVm vm = live.get(handle.instance());
    if (vm == null) {
      throw new HypervisorException("VM " + handle.vmId() + " (" + handle.instance() + ") is not run by this agent;"
          + " it may have stopped, or needs re-attaching");
    }
    return vm;
  }

  private int freePort() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(settings.migrationHost(), 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new HypervisorException("no free port on " + settings.migrationHost() + " for an incoming migration: " + e.getMessage(), e);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HypervisorException("interrupted", e);
    }
  }

}
