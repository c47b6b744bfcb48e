package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;
import io.ferry.journal.Lifecycle;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.vm.VmEvent.*;
import java.time.Instant;

/**
 * A VM's state: one record per lifecycle stage, pure values. {@link #LIFECYCLE} folds events into
 * them; the live entity, audit replay and policies use the same fold.
 *
 * <pre>
 * Requested → Placed → Starting → Running ⇄ Migrating
 * Running → Suspending → Suspended → Resuming → Running
 * Placed|Starting|Running|Migrating|Suspending|Resuming → Stopping → Stopped → Deleted
 * (most stages) → Failed;  Starting|Running|Migrating|Suspending|Resuming|Stopping → Lost
 * Lost → Placed (cold boot) or Resuming (from the last image)
 * </pre>
 */
public sealed interface VmState extends FerrySerializable {
  VmFacts facts();

  default String vmId() {
    return facts().vmId();
  }

  /** The stage's name, as shown to people. */
  default String stage() {
    return Lifecycle.stage(this);
  }

  /** Whether a QEMU process of this VM may be running (used by fencing and audit). */
  default boolean mayRun() {
    return this instanceof Starting || this instanceof Running || this instanceof Migrating
        || this instanceof Suspending || this instanceof Resuming || this instanceof Stopping;
  }

  /** A VM that was never requested. */
  record Empty(VmFacts facts) implements VmState {
    public static Empty of(String vmId) {
      return new Empty(new VmFacts(vmId, null, null, null, null));
    }
  }

  record Requested(VmFacts facts) implements VmState {}

  record Placed(VmFacts facts) implements VmState {}

  record Starting(VmFacts facts) implements VmState {}

  record Running(VmFacts facts) implements VmState {}

  record Migrating(VmFacts facts, Placement target, Instant since, MigrationSettings settings) implements VmState {
    public Migrating {
      settings = settings == null ? MigrationSettings.DEFAULT : settings;
    }
  }

  record Suspending(VmFacts facts, String imagePath, Instant since) implements VmState {}

  record Suspended(VmFacts facts) implements VmState {}

  record Resuming(VmFacts facts, Instant since) implements VmState {}

  record Stopping(VmFacts facts) implements VmState {}

  record Stopped(VmFacts facts) implements VmState {}

  record Failed(VmFacts facts, String reason) implements VmState {}

  /** The VM's QEMU on {@code lostNodeId} is gone; {@code reason} says how it is known. */
  record Lost(VmFacts facts, String lostNodeId, String reason) implements VmState {}

  record Deleted(VmFacts facts) implements VmState {}

  /** The VM's transitions: which event may follow which stages, and where it leads. */
  Lifecycle<VmState, VmEvent> LIFECYCLE = Lifecycle.<VmState, VmEvent>builder("VM")
      .on(VmRequested.class, (s, e) -> new Requested(new VmFacts(e.vmId(), e.spec(), null, null, null)),
          Empty.class)
      .on(VmPlaced.class, (s, e) -> new Placed(s.facts().withPlacement(e.placement()).withAttempt(e.attempt())),
          Requested.class, Lost.class)
      .on(VmStarting.class, (s, e) -> new Starting(s.facts()), Placed.class)
      .on(VmStarted.class, (s, e) -> new Running(s.facts()), Starting.class)
      .on(VmMigrationStarted.class, (s, e) -> new Migrating(s.facts().withAttempt(e.attempt()), e.target(), e.at(), e.settings()), Running.class)
      .on(VmMigrated.class, (s, e) -> new Running(s.facts().withPlacement(e.target())), Migrating.class)
      .on(VmMigrationFailed.class, (s, e) -> new Running(s.facts()), Migrating.class)
      .on(VmSuspendStarted.class, (s, e) -> new Suspending(s.facts().withAttempt(e.attempt()), e.imagePath(), e.at()), Running.class)
      .on(VmSuspended.class,
          (s, e) -> new Suspended(s.facts().withPlacement(null).withLastImage(e.imagePath())),
          Suspending.class)
      .on(VmSuspendFailed.class, (s, e) -> new Running(s.facts()), Suspending.class)
      .on(VmResumeStarted.class, (s, e) -> new Resuming(s.facts().withPlacement(e.placement()).withAttempt(e.attempt()), e.at()),
          Suspended.class, Lost.class)
      .on(VmResumed.class, (s, e) -> new Running(s.facts()), Resuming.class)
      .on(VmResumeFailed.class, (s, e) -> new Suspended(s.facts().withPlacement(null)), Resuming.class)
      .on(VmStopRequested.class, (s, e) -> new Stopping(s.facts().withAttempt(e.attempt())),
          Placed.class, Starting.class, Running.class, Migrating.class, Suspending.class, Resuming.class)
      .on(VmStopped.class, (s, e) -> new Stopped(s.facts().withPlacement(null)),
          Requested.class, Stopping.class, Suspended.class, Lost.class, Failed.class)
      .on(VmFailed.class, (s, e) -> new Failed(s.facts(), e.reason()),
          Placed.class, Starting.class, Running.class, Migrating.class, Suspending.class,
          Resuming.class, Stopping.class)
      .on(VmLost.class, (s, e) -> new Lost(s.facts().withPlacement(null), e.nodeId(), e.reason()),
          Starting.class, Running.class, Migrating.class, Suspending.class, Resuming.class,
          Stopping.class)
      .on(VmDeleted.class, (s, e) -> new Deleted(s.facts()), Stopped.class, Failed.class)
      .build();
}
