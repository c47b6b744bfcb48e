package io.ferry.nodeagent.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What every {@link HypervisorDriver} must do, run against each implementation: the QEMU driver
 * with real QEMU, and the process-less one.
 */
public abstract class HypervisorDriverContract {

  /** The driver of node A. */
  protected abstract HypervisorDriver nodeA();

  /** The driver of node B. */
  protected abstract HypervisorDriver nodeB();

  /** A new driver instance for node A, as after an agent restart. */
  protected abstract HypervisorDriver restartedNodeA();

  /** Shared storage both nodes see. */
  protected abstract Path shared();

  /** A launch that boots. */
  protected VmLaunch launch(String name) {
    return new VmLaunch(name + "-" + UUID.randomUUID().toString().substring(0, 6), 1, 128, "tiny");
  }

  /** Waits until a freshly started VM does what a guest does (QEMU: the guest counts). */
  protected void awaitGuest(VmHandle handle) {}

  /** Checks that the guest of {@code after} continued from {@code before} without rebooting. */
  protected void assertContinued(VmHandle before, VmHandle after) {}

  /** Migration parameters under which the migration cannot finish by its deadline. */
  protected abstract MigrationParams hopeless();

  @Test
  void aVmStartsPausesResumesAndStops() {
    HypervisorDriver a = nodeA();
    VmHandle vm = a.start(launch("basic"));
    try {
      awaitGuest(vm);
      assertEquals(VmStatus.RUNNING, a.inspect(vm));
      a.pause(vm);
      assertEquals(VmStatus.PAUSED, a.inspect(vm));
      a.resume(vm);
      assertEquals(VmStatus.RUNNING, a.inspect(vm));
    } finally {
      a.stop(vm);
    }
    assertEquals(VmStatus.GONE, a.inspect(vm));
    a.stop(vm); // stopping a gone VM is a no-op
  }

  @Test
  void aVmMigratesToAnotherNodeWithProgressThatNeverRunsBackwards() {
    HypervisorDriver a = nodeA();
    HypervisorDriver b = nodeB();
    VmLaunch launch = launch("mig");
    VmHandle source = a.start(launch);
    awaitGuest(source);
    Incoming target = b.prepareIncoming(launch, MigrationParams.DEFAULT);
    List<Integer> progress = new CopyOnWriteArrayList<>();
    MigrationOutcome outcome = a.migrate(source, target.uri(), MigrationParams.DEFAULT, (p, t, r) -> progress.add(p));
    try {
      assertTrue(outcome.completed(), outcome.failure());
      assertTrue(outcome.totalMs() > 0, "total time " + outcome.totalMs());
      assertTrue(outcome.transferredBytes() > 0, "bytes " + outcome.transferredBytes());
      VmHandle moved = b.awaitIncoming(target, Duration.ofSeconds(20));
      assertEquals(VmStatus.RUNNING, b.inspect(moved));
      assertNotEquals(VmStatus.RUNNING, a.inspect(source), "the source waits, paused, until the target is confirmed");
      a.stop(source);
      assertEquals(VmStatus.GONE, a.inspect(source));
      assertFalse(progress.isEmpty());
      assertEquals(100, progress.get(progress.size() - 1));
      for (int i = 1; i < progress.size(); i++) {
        assertTrue(progress.get(i) >= progress.get(i - 1), "progress ran backwards: " + progress);
      }
      assertContinued(source, moved);
    } finally {
      b.stop(target.handle());
      a.stop(source);
    }
  }

  @Test
  void aMigrationThatCannotMeetItsDeadlineIsCancelledAndTheSourceRunsOn() {
    HypervisorDriver a = nodeA();
    HypervisorDriver b = nodeB();
    VmLaunch launch = launch("slow");
    VmHandle source = a.start(launch);
    awaitGuest(source);
    Incoming target = b.prepareIncoming(launch, hopeless());
    try {
      MigrationOutcome outcome = a.migrate(source, target.uri(), hopeless(), MigrationListener.NONE);
      assertFalse(outcome.completed());
      assertTrue(outcome.failure().contains("did not converge"), outcome.failure());
      assertEquals(VmStatus.RUNNING, a.inspect(source));
      awaitGuest(source);
    } finally {
      b.stop(target.handle());
      a.stop(source);
    }
  }

  @Test
  void aVmSuspendedOnOneNodeResumesOnAnother() throws Exception {
    HypervisorDriver a = nodeA();
    HypervisorDriver b = nodeB();
    VmLaunch launch = launch("susp");
    VmHandle vm = a.start(launch);
    awaitGuest(vm);
    Path file = shared().resolve("suspend").resolve(launch.vmId() + ".state");
    SuspendOutcome saved = a.suspend(vm, file);
    assertEquals(VmStatus.GONE, a.inspect(vm));
    assertTrue(Files.size(file) > 0);
    assertTrue(saved.bytes() > 0, "bytes " + saved.bytes());
    VmHandle resumed = b.resumeFrom(launch, file);
    try {
      assertEquals(VmStatus.RUNNING, b.inspect(resumed));
      assertContinued(vm, resumed);
    } finally {
      b.stop(resumed);
    }
  }

  @Test
  void aRestartedAgentReattachesToItsRunningVm() {
    HypervisorDriver first = restartedNodeA();
    VmHandle vm = first.start(launch("reat"));
    awaitGuest(vm);
    first.detachAll();
    HypervisorDriver restarted = restartedNodeA();
    VmHandle again = restarted.reattach(vm);
    try {
      assertEquals(VmStatus.RUNNING, restarted.inspect(again));
      assertEquals(vm, again);
    } finally {
      restarted.stop(again);
    }
    var gone = assertThrows(HypervisorException.class, () -> restartedNodeA().reattach(vm));
    assertTrue(gone.getMessage().contains("gone"), gone.getMessage());
  }

  @Test
  void aHandleOfAnUnknownVersionIsRefused() {
    VmHandle vm = nodeA().start(launch("ver"));
    try {
      VmHandle future = new VmHandle(99, vm.driver(), vm.launch(), vm.pid(), vm.instance(), vm.attributes());
      var error = assertThrows(HypervisorException.class, () -> restartedNodeA().reattach(future));
      assertTrue(error.getMessage().contains("version 99"), error.getMessage());
    } finally {
      nodeA().stop(vm);
    }
  }

  @Test
  void anImageThatDoesNotExistIsAClearError() {
    VmLaunch base = launch("noimg");
    var error = assertThrows(HypervisorException.class,
        () -> nodeA().start(new VmLaunch(base.vmId(), 1, 128, "no-such-image")));
    assertTrue(error.getMessage().contains("image 'no-such-image' does not exist"), error.getMessage());
  }

  @Test
  void tooLittleMemoryToBootIsAClearError() {
    VmLaunch base = launch("small");
    var error = assertThrows(HypervisorException.class, () -> nodeA().start(new VmLaunch(base.vmId(), 1, 64, "tiny")));
    assertTrue(error.getMessage().contains("at least 96 MiB"), error.getMessage());
  }

  @Test
  void resumingFromAMissingFileIsAClearError() {
    var error = assertThrows(HypervisorException.class,
        () -> nodeB().resumeFrom(launch("nofile"), shared().resolve("suspend").resolve("missing.state")));
    assertTrue(error.getMessage().contains("does not exist"), error.getMessage());
  }
}
