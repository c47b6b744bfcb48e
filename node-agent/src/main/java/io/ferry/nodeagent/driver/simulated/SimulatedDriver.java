package io.ferry.nodeagent.driver.simulated;

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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A process-less hypervisor for load tests: no guest runs. Migration takes the time a real one of
 * that memory size would at the link's bandwidth (capped by the migration's own limit), suspend and
 * resume the time to write or read the memory at the disk's bandwidth; all times are divided by
 * {@code speedup}. Its "processes" live in a registry shared by all driver instances in the JVM, so
 * a restarted agent can re-attach as it would to QEMU.
 *
 * @see SimulatedSettings
 */
public final class SimulatedDriver implements HypervisorDriver {
  private static final Map<String, SimVm> WORLD = new ConcurrentHashMap<>();
  private static final AtomicLong INSTANCES = new AtomicLong();
  private static final long TICK_MS = 20;

  private final SimulatedSettings settings;
  /** The "processes" this driver started (on its node); those still in the world run there. */
  private final Set<String> mine = ConcurrentHashMap.newKeySet();

  public SimulatedDriver(SimulatedSettings settings) {
    this.settings = settings;
  }

  private static final class SimVm {
    final VmHandle handle;
    volatile VmStatus status;
    volatile boolean cancelRequested;

    SimVm(VmHandle handle, VmStatus status) {
      this.handle = handle;
      this.status = status;
    }
  }

  @Override
  public String name() {
    return "simulated";
  }

  @Override
  public Set<String> capabilities() {
    return Set.of("simulated", "live-migration", "postcopy", "suspend");
  }

  private VmHandle create(VmLaunch launch, VmStatus status) {
    if (launch.memoryMiB() < settings.minMemoryMiB()) {
      throw new HypervisorException("VM " + launch.vmId() + " would get " + launch.memoryMiB()
          + " MiB; the simulated guest needs at least " + settings.minMemoryMiB() + " MiB: choose a larger flavour");
    }
    if (!settings.images().contains(launch.image())) {
      throw new HypervisorException("image '" + launch.image() + "' does not exist; the simulated driver knows " + settings.images());
    }
    String instance = "sim" + INSTANCES.incrementAndGet();
    VmHandle handle = new VmHandle(VmHandle.CURRENT_VERSION, name(), launch, 0, instance, Map.of("node", settings.node()));
    WORLD.put(instance, new SimVm(handle, status));
    mine.add(instance);
    return handle;
  }

  @Override
  public VmHandle start(VmLaunch launch) {
    return create(launch, VmStatus.RUNNING);
  }

  @Override
  public void stop(VmHandle handle) {
    WORLD.remove(handle.instance());
  }

  @Override
  public void pause(VmHandle handle) {
    vm(handle).status = VmStatus.PAUSED;
  }

  @Override
  public void resume(VmHandle handle) {
    vm(handle).status = VmStatus.RUNNING;
  }

  @Override
  public VmStatus inspect(VmHandle handle) {
    SimVm vm = WORLD.get(handle.instance());
    return vm == null ? VmStatus.GONE : vm.status;
  }

  @Override
  public Incoming prepareIncoming(VmLaunch launch, MigrationParams params) {
    VmHandle handle = create(launch, VmStatus.INCOMING);
    return new Incoming(handle, "sim:" + handle.instance());
  }

  /** The modelled time to move {@code bytes} at {@code bytesPerSec}, sped up. */
  private long modelledMs(long bytes, long bytesPerSec) {
    return Math.max(1, (long) (bytes * 1000.0 / bytesPerSec / settings.speedup()));
  }

  @Override
  public MigrationOutcome migrate(VmHandle source, String targetUri, MigrationParams params, MigrationListener listener) {
    SimVm vm = vm(source);
    String targetInstance = targetUri.startsWith("sim:") ? targetUri.substring(4) : "";
    SimVm incoming = WORLD.get(targetInstance);
    if (incoming == null || incoming.status != VmStatus.INCOMING) {
      return MigrationOutcome.failed("migration of VM " + source.vmId() + " failed: no target waits at " + targetUri);
    }
    long bytes = (long) source.launch().memoryMiB() << 20;
    long bandwidth = Math.min(params.maxBandwidthBytesPerSec(), settings.linkBytesPerSec());
    long needMs = modelledMs(bytes, bandwidth);
    long deadlineMs = Math.max(1, (long) (params.deadline().toMillis() / settings.speedup()));
    ProgressTracker progress = new ProgressTracker(listener);
    vm.status = VmStatus.MIGRATING;
    vm.cancelRequested = false;
    long start = System.nanoTime();
    while (true) {
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      long sent = Math.min(bytes, bytes * elapsed / needMs);
      if (!WORLD.containsKey(targetInstance)) {
        vm.status = VmStatus.RUNNING;
        return MigrationOutcome.failed("migration of VM " + source.vmId() + " failed: the target went away");
      }
      if (vm.cancelRequested) {
        vm.status = VmStatus.RUNNING;
        return MigrationOutcome.failed("migration of VM " + source.vmId() + " was cancelled on request");
      }
      if (elapsed >= needMs) {
        progress.done(bytes);
        incoming.status = VmStatus.RUNNING;
        WORLD.remove(source.instance());
        return MigrationOutcome.completed((long) (elapsed * settings.speedup()), settings.downtimeMs(), bytes, false);
      }
      if (elapsed >= deadlineMs) {
        if (params.postCopy()) {
          progress.done(bytes);
          incoming.status = VmStatus.RUNNING;
          WORLD.remove(source.instance());
          return MigrationOutcome.completed((long) (elapsed * settings.speedup()), settings.downtimeMs(), bytes, true);
        }
        vm.status = VmStatus.RUNNING;
        return MigrationOutcome.failed("migration of VM " + source.vmId() + " did not converge within "
            + params.deadline().toMillis() + " ms (needs ~" + (long) (needMs * settings.speedup()) + " ms at "
            + bandwidth / (1 << 20) + " MiB/s); cancelled, the source runs on");
      }
      progress.update(sent, bytes - sent);
      sleep(Math.min(TICK_MS, needMs - elapsed));
    }
  }

  @Override
  public void cancelMigration(VmHandle source) {
    vm(source).cancelRequested = true;
  }

  @Override
  public VmHandle awaitIncoming(Incoming target, Duration timeout) {
    SimVm vm = vm(target.handle());
    if (vm.status != VmStatus.RUNNING) {
      throw new HypervisorException("VM " + target.handle().vmId() + ": the target is " + vm.status + ", not running");
    }
    return target.handle();
  }

  @Override
  public SuspendOutcome suspend(VmHandle handle, Path file) {
    SimVm vm = vm(handle);
    long bytes = (long) handle.launch().memoryMiB() << 20;
    long ms = modelledMs(bytes, settings.diskBytesPerSec());
    sleep(ms);
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, "ferry simulated suspend\nvm=" + handle.vmId() + "\nbytes=" + bytes + "\n");
    } catch (IOException e) {
      throw new HypervisorException("VM " + handle.vmId() + ": cannot write its suspend file " + file + ": " + e.getMessage(), e);
    }
    WORLD.remove(vm.handle.instance());
    return new SuspendOutcome(file.toString(), bytes, (long) (ms * settings.speedup()));
  }

  @Override
  public VmHandle resumeFrom(VmLaunch launch, Path file) {
    String content;
    try {
      content = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new HypervisorException("VM " + launch.vmId() + " cannot be resumed: its suspend file " + file + " does not exist", e);
    }
    if (!content.contains("vm=" + launch.vmId() + "\n")) {
      throw new HypervisorException("VM " + launch.vmId() + " cannot be resumed from " + file + ": it holds another VM");
    }
    sleep(modelledMs((long) launch.memoryMiB() << 20, settings.diskBytesPerSec()));
    return create(launch, VmStatus.RUNNING);
  }

  @Override
  public VmHandle reattach(VmHandle saved) {
    if (saved.version() != VmHandle.CURRENT_VERSION || !saved.driver().equals(name())) {
      throw new HypervisorException("cannot re-attach VM " + saved.vmId() + ": its handle is version " + saved.version()
          + " of driver '" + saved.driver() + "', this is version " + VmHandle.CURRENT_VERSION + " of 'simulated'");
    }
    SimVm vm = WORLD.get(saved.instance());
    if (vm == null) throw new HypervisorException("cannot re-attach VM " + saved.vmId() + ": it is gone");
    return vm.handle;
  }

  /**
   * Every VM of this driver's node dies at once, as QEMU processes do when their batch job is
   * killed at its walltime; returns how many died. Migrations into or out of them fail.
   */
  public int killAll() {
    int killed = 0;
    for (String instance : mine) {
      if (WORLD.remove(instance) != null) killed++;
    }
    mine.clear();
    return killed;
  }

  @Override
  public void detachAll() {
    // Nothing to let go of: the simulated VMs live in the JVM-wide registry.
  }

  private SimVm vm(VmHandle handle) {
    SimVm vm = WORLD.get(handle.instance());
    if (vm == null) throw new HypervisorException("VM " + handle.vmId() + " (" + handle.instance() + ") is not running");
    return vm;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HypervisorException("interrupted", e);
    }
  }
}
