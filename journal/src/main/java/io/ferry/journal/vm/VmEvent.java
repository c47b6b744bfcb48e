package io.ferry.journal.vm;

import io.ferry.journal.Cause;
import io.ferry.journal.FerrySerializable;
import io.ferry.journal.agent.MigrationSettings;
import java.time.Instant;

/**
 * What happened to a VM, as journaled. Events are facts in the past tense; each carries the VM's
 * id and when it happened, and decisions carry their {@link Cause}.
 */
public sealed interface VmEvent extends FerrySerializable {
  String vmId();

  Instant at();

  /** A user asked for the VM. */
  record VmRequested(String vmId, VmSpec spec, Cause cause, Instant at) implements VmEvent {}

  /**
   * Capacity on a timeslot was reserved for the VM (first placement, or a cold restart);
   * {@code attempt} identifies the start that follows.
   */
  record VmPlaced(String vmId, Placement placement, Cause cause, Instant at, String attempt) implements VmEvent {}

  /** The agent began starting the VM's QEMU. */
  record VmStarting(String vmId, Instant at) implements VmEvent {}

  /** The guest runs. */
  record VmStarted(String vmId, Instant at) implements VmEvent {}

  /** A live migration to {@code target} began, with {@code settings} (bandwidth, deadline, …). */
  record VmMigrationStarted(String vmId, Placement target, Cause cause, Instant at, MigrationSettings settings,
      String attempt) implements VmEvent {
    public VmMigrationStarted {
      settings = settings == null ? MigrationSettings.DEFAULT : settings;
    }
  }

  /** The live migration finished: the VM now runs on {@code target}. */
  record VmMigrated(String vmId, Placement target, MigrationStats stats, Instant at) implements VmEvent {}

  /** The live migration was given up; the VM still runs on its source. */
  record VmMigrationFailed(String vmId, String reason, Instant at) implements VmEvent {}

  /** Saving the VM to {@code imagePath} on shared storage began. */
  record VmSuspendStarted(String vmId, String imagePath, Cause cause, Instant at, String attempt) implements VmEvent {}

  /** The VM is saved to {@code imagePath} and no longer runs anywhere. */
  record VmSuspended(String vmId, String imagePath, long bytes, Instant at) implements VmEvent {}

  /** Saving failed; the VM still runs where it was. */
  record VmSuspendFailed(String vmId, String reason, Instant at) implements VmEvent {}

  /** Restoring the VM from its last image onto {@code placement} began. */
  record VmResumeStarted(String vmId, Placement placement, Cause cause, Instant at, String attempt) implements VmEvent {}

  /** The restored guest runs. */
  record VmResumed(String vmId, Instant at) implements VmEvent {}

  /** Restoring failed; the image is kept and the VM is suspended again. */
  record VmResumeFailed(String vmId, String reason, Instant at) implements VmEvent {}

  /** Stopping the running guest began. */
  record VmStopRequested(String vmId, Cause cause, Instant at, String attempt) implements VmEvent {}

  /** The VM no longer runs and will not run again unless started anew. */
  record VmStopped(String vmId, Cause cause, Instant at) implements VmEvent {}

  /** The VM cannot go on (QEMU failed, or a step failed in a way nothing can retry). */
  record VmFailed(String vmId, String reason, Instant at) implements VmEvent {}

  /**
   * The VM's QEMU on {@code nodeId} is known to be gone: it exited by itself (a crash, a guest
   * power-off), or its node vanished and its agent fenced itself. {@code reason} says which, with
   * QEMU's last words where there were any ({@code null} in journals written before it existed).
   */
  record VmLost(String vmId, String nodeId, Instant at, String reason) implements VmEvent {}

  /** The VM's record is closed; its id is not reused. */
  record VmDeleted(String vmId, Cause cause, Instant at) implements VmEvent {}
}
