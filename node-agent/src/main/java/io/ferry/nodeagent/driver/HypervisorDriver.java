package io.ferry.nodeagent.driver;

import java.nio.file.Path;
import java.util.Set;

/**
 * What the node agent needs from a hypervisor, one plug-in per hypervisor (V2M style). The agent
 * declares it; {@link io.ferry.nodeagent.driver.qemu.QemuDriver} drives real QEMU and
 * {@link io.ferry.nodeagent.driver.simulated.SimulatedDriver} models one without processes for
 * load tests. Every method blocks until its step is done; the agent calls them off its actors'
 * threads. Failures are {@link HypervisorException}s whose message says what went wrong and what
 * to do.
 */
public interface HypervisorDriver {

  /** The driver's name, as written in handles ("qemu", "simulated"). */
  String name();

  /** What it can do, reported to the Node entity: for example "qemu", "accel:tcg", "postcopy". */
  Set<String> capabilities();

  /** Boots a VM from its image on a fresh copy-on-write overlay (or its existing overlay). */
  VmHandle start(VmLaunch launch);

  /** Stops a VM for good: asks it to quit, kills it if it does not. Stopping a gone VM is a no-op. */
  void stop(VmHandle handle);

  /** Pauses the guest's vCPUs. */
  void pause(VmHandle handle);

  /** Resumes paused vCPUs. */
  void resume(VmHandle handle);

  /** What the VM is doing now; {@link VmStatus#GONE} when its process no longer exists. */
  VmStatus inspect(VmHandle handle);

  /**
   * Starts a VM that waits for an incoming migration with the same launch parameters as its
   * source. {@code params} matter where both sides must agree (post-copy).
   */
  Incoming prepareIncoming(VmLaunch launch, MigrationParams params);

  /**
   * Migrates a running VM live to a target prepared (possibly by another node's driver) at
   * {@code targetUri} ({@link Incoming#uri()}), reporting progress as it goes. Returns when
   * the migration completed (the source is then stopped) or failed (the source runs on). A
   * migration that has not converged by {@code params.deadline()} is switched to post-copy if
   * allowed, otherwise cancelled. After a completed migration the source is left paused: the
   * caller stops it with {@link #stop} once the target runs the guest ({@link #awaitIncoming}),
   * so that a target that fails to take over does not leave the guest nowhere. A migration that
   * failed after post-copy began leaves the source paused too ({@link MigrationOutcome#guestLost()}):
   * its memory is stale and it must never run again.
   */
  MigrationOutcome migrate(VmHandle source, String targetUri, MigrationParams params, MigrationListener listener);

  /** Cancels a migration in progress from another thread; {@link #migrate} then returns failed. */
  void cancelMigration(VmHandle source);

  /** Waits until a prepared target runs the migrated guest, or fails if it does not. */
  VmHandle awaitIncoming(Incoming target, java.time.Duration timeout);

  /** Saves the VM to {@code file} and stops it. */
  SuspendOutcome suspend(VmHandle handle, Path file);

  /** Starts a VM from a file written by {@link #suspend}; it runs when this returns. */
  VmHandle resumeFrom(VmLaunch launch, Path file);

  /**
   * Takes over a VM still running from an earlier agent process, from the handle that process
   * saved.
   *
   * @throws HypervisorException if the VM is gone or the handle's version is not understood
   */
  VmHandle reattach(VmHandle saved);

  /**
   * Completes when this incarnation's hypervisor process ends, however it ends; never completes
   * for a driver without processes. The agent reports an exit that was not
   * {@linkplain VmExit#deliberate() deliberate} at once, so that no VM stays recorded running
   * without its process.
   */
  default java.util.concurrent.CompletionStage<VmExit> whenExited(VmHandle handle) {
    return new java.util.concurrent.CompletableFuture<>();
  }

  /**
   * A live migration out of this node, as QEMU's last {@code query-migrate} put it: what was sent,
   * what is left (it grows while the guest dirties memory faster than the link sends), how fast
   * the guest dirties memory and how fast the link sends.
   */
  record InFlight(String vmId, long transferredBytes, long remainingBytes, double dirtyBytesPerSecond,
      double transferBytesPerSecond) {}

  /** The live migrations out of this node now in flight; none for a driver that does not follow them. */
  default java.util.List<InFlight> migrationsInFlight() {
    return java.util.List.of();
  }

  /**
   * Lets go of every VM without stopping it (closes control connections), as an agent that exits
   * while its VMs must live on; a later driver re-attaches with the saved handles.
   */
  void detachAll();
}
