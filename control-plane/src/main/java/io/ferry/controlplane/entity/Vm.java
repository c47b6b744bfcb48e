package io.ferry.controlplane.entity;

import io.ferry.controlplane.agents.AgentLink;
import io.ferry.journal.Cause;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.Tags;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmEvent.*;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.time.Clock;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One user VM, event-sourced and sharded. The lifecycle (which event may follow which stage) is
 * {@link VmState#LIFECYCLE}; this entity decides which events a command leads to. Commands named
 * {@code Report…} come from the agent that runs the VM's QEMU and record what happened there;
 * the others are decisions (a user's, a policy's, the placement's).
 *
 * <p>Side effects (talking to agents) are not done here: they follow persisted events and are
 * re-driven on recovery by the orchestration that owns them, so they must be idempotent.
 */
public final class Vm extends EventSourcedBehaviorWithEnforcedReplies<Vm.Command, VmEvent, VmState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Vm");

  /** A command to a VM; every one is answered with the VM's state after it, or a rejection. */
  public sealed interface Command extends EntityCommand<VmState> {}

  /** Create the VM as the user asked. */
  public record CreateVm(VmSpec spec, Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  /** Record the capacity reserved for the VM on a timeslot (placement reserves it first). */
  public record PlaceVm(Placement placement, Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  /**
   * A report of what an agent did for one attempt ({@link VmFacts#attempt()}): accepted only for
   * the attempt the VM waits for, so a late or repeated report of an earlier attempt changes nothing.
   */
  public sealed interface Report extends Command {
    String attempt();
  }

  public record ReportStarting(String attempt, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  public record ReportStarted(String attempt, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /**
   * Migrate the running VM live to another timeslot's node. {@code settings} may be {@code null}
   * (defaults); live progress goes to {@code progressTo} if given (it is not journaled).
   */
  public record MigrateVm(Placement target, MigrationSettings settings, ActorRef<MigrationProgress> progressTo,
      Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {
    public MigrateVm(Placement target, Cause cause, ActorRef<StatusReply<VmState>> replyTo) {
      this(target, null, null, cause, replyTo);
    }
  }

  public record ReportMigrated(String attempt, MigrationStats stats, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /** The migration failed; the source runs on, unless {@code guestLost} (then the VM has failed). */
  public record ReportMigrationFailed(String attempt, String reason, boolean guestLost,
      ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /** Save the running VM to {@code imagePath} on shared storage. */
  public record SuspendVm(String imagePath, Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  public record ReportSuspended(String attempt, long bytes, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  public record ReportSuspendFailed(String attempt, String reason, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /** Restore the VM from its last image onto a timeslot's node. */
  public record ResumeVm(Placement placement, Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  public record ReportResumed(String attempt, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  public record ReportResumeFailed(String attempt, String reason, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /**
   * Stop the VM, in any stage: a running guest is shut down first (a migration in flight is
   * cancelled by the agent before); one that runs nowhere stops at once.
   */
  public record StopVm(Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  public record ReportStopped(String attempt, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /** The attempt's step failed in a way nothing can retry (QEMU would not start, a stop failed). */
  public record ReportFailed(String attempt, String reason, ActorRef<StatusReply<VmState>> replyTo) implements Report {}

  /**
   * The VM's QEMU on {@code nodeId} ended without being asked to (the agent saw it exit):
   * whatever the VM was doing there, it is lost, with {@code reason}; a VM that was stopping is stopped.
   */
  public record ReportExited(String nodeId, String reason, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  /**
   * The VM's QEMU on {@code nodeId} is known gone for another reason: its node was lost and its
   * agent fenced, its job ended, or its agent found no QEMU of it on re-attaching.
   */
  public record ReportLost(String nodeId, String reason, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  /** Close the record of a stopped or failed VM. */
  public record DeleteVm(Cause cause, ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  public record GetVm(ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  /**
   * The entity's own timer while its stage is in flight: send the stage's agent command again
   * ({@code ferry.control.redrive-interval}), in case a command or its report was lost.
   */
  public record Redrive(ActorRef<StatusReply<VmState>> replyTo) implements Command {}

  /** Starts the sharding of VM entities on this member ({@link VmSharding}). */
  public static void init(ActorSystem<?> system, Clock clock, AgentLink agents) {
    VmSharding.init(system, clock, agents);
  }

  /** Where a VM's entity should live, told after recovery and after each persisted event. */
  @FunctionalInterface
  public interface Home {
    void settle(String vmId, VmState state);

    Home NONE = (vmId, state) -> {};
  }

  /** Gives a VM's room on a timeslot back when it leaves (idempotent on the timeslot's side). */
  @FunctionalInterface
  public interface Capacity {
    void free(String timeslotId, String vmId);

    /**
     * Gives back the room a step no longer holds: the timeslot the VM left (or failed on), and
     * the target of a migration that ended without moving it there.
     */
    default void afterStep(String vmId, VmState before, VmState after) {
      String left = heldTimeslot(before);
      if (left != null && !left.equals(heldTimeslot(after))) free(left, vmId);
      if (!(before instanceof VmState.Migrating m) || after instanceof VmState.Migrating) return;
      Placement now = after.facts().placement();
      String target = m.target().timeslotId();
      if (now == null || !now.timeslotId().equals(target) || after instanceof VmState.Failed) free(target, vmId);
    }

    /** The timeslot whose room the VM holds: where it is placed, unless it failed. */
    private static String heldTimeslot(VmState state) {
      Placement p = state.facts().placement();
      return p == null || state instanceof VmState.Failed ? null : p.timeslotId();
    }

    Capacity NONE = (t, v) -> {};
  }

  public static Behavior<Command> create(String vmId, Clock clock, AgentLink agents) {
    return create(vmId, clock, agents, Capacity.NONE);
  }

  public static Behavior<Command> create(String vmId, Clock clock, AgentLink agents, Capacity capacity) {
    return create(vmId, clock, agents, capacity, Home.NONE);
  }

  public static Behavior<Command> create(String vmId, Clock clock, AgentLink agents, Capacity capacity, Home home) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> new Vm(context, timers, vmId, clock, agents, capacity, home)));
  }

  private final ActorContext<Command> context;
  private final String vmId;
  private final Clock clock;
  private final AgentLink agents;
  private final Capacity capacity;
  private final Home home;
  /** Who watches the migration in flight; not journaled, so lost (null) after a recovery. */
  private ActorRef<MigrationProgress> progressTo;

  private final VmAgentWork.Redrives redrives;

  private Vm(ActorContext<Command> context, TimerScheduler<Command> timers, String vmId, Clock clock, AgentLink agents,
      Capacity capacity, Home home) {
    super(PersistenceId.of(ENTITY_KEY.name(), vmId), PersistFailures.restartWithBackoff());
    this.context = context;
    this.redrives = new VmAgentWork.Redrives(timers, context.getSystem().settings().config(), context.getSystem().ignoreRef());
    this.vmId = vmId;
    this.clock = clock;
    this.agents = agents;
    this.capacity = capacity;
    this.home = home;
  }

  @Override
  public VmState emptyState() {
    return VmState.Empty.of(vmId);
  }

  @Override
  public CommandHandlerWithReply<Command, VmEvent, VmState> commandHandler() {
    var stopNow = Set.<Class<? extends VmState>>of(
        VmState.Requested.class, VmState.Suspended.class, VmState.Lost.class, VmState.Failed.class);
    return new StageHandlers<Command, VmEvent, VmState>(
            newCommandHandlerWithReplyBuilder(), Effect(), VmState.LIFECYCLE, s -> "VM " + vmId, "vm")
        .on(CreateVm.class, VmRequested.class, (s, c) -> Decision.persist(new VmRequested(vmId, c.spec(), c.cause(), clock.instant())))
        .on(PlaceVm.class, VmPlaced.class, (s, c) -> Decision.persist(new VmPlaced(vmId, c.placement(), c.cause(), clock.instant(), nextAttempt())))
        .on(ReportStarting.class, VmStarting.class, ofAttempt((s, c) -> Decision.persist(new VmStarting(vmId, clock.instant()))))
        .on(ReportStarted.class, VmStarted.class, ofAttempt((s, c) -> Decision.persist(new VmStarted(vmId, clock.instant()))))
        .on(MigrateVm.class, VmMigrationStarted.class, whileOnExpiring(MigrateVm::cause, this::migrate))
        .on(ReportMigrated.class, VmMigrated.class, ofAttempt((s, c) -> Decision.persist(
            new VmMigrated(vmId, ((VmState.Migrating) s).target(), c.stats(), clock.instant()))))
        .on(ReportMigrationFailed.class, VmMigrationFailed.class, ofAttempt((s, c) -> Decision.persist(c.guestLost()
            ? new VmFailed(vmId, c.reason(), clock.instant())
            : new VmMigrationFailed(vmId, c.reason(), clock.instant()))))
        .on(SuspendVm.class, VmSuspendStarted.class, whileOnExpiring(SuspendVm::cause,
            (s, c) -> Decision.persist(new VmSuspendStarted(vmId, c.imagePath(), c.cause(), clock.instant(), nextAttempt()))))
        .on(ReportSuspended.class, VmSuspended.class, ofAttempt((s, c) -> Decision.persist(
            new VmSuspended(vmId, ((VmState.Suspending) s).imagePath(), c.bytes(), clock.instant()))))
        .on(ReportSuspendFailed.class, VmSuspendFailed.class, ofAttempt((s, c) -> Decision.persist(new VmSuspendFailed(vmId, c.reason(), clock.instant()))))
        .on(ResumeVm.class, VmResumeStarted.class, this::resume)
        .on(ReportResumed.class, VmResumed.class, ofAttempt((s, c) -> Decision.persist(new VmResumed(vmId, clock.instant()))))
        .on(ReportResumeFailed.class, VmResumeFailed.class, ofAttempt((s, c) -> Decision.persist(new VmResumeFailed(vmId, c.reason(), clock.instant()))))
        .on(StopVm.class, VmStopRequested.class, whileOnExpiring(StopVm::cause,
            (s, c) -> Decision.persist(new VmStopRequested(vmId, c.cause(), clock.instant(), nextAttempt()))))
        .on(StopVm.class, stopNow, whileOnExpiring(StopVm::cause, (s, c) -> Decision.persist(new VmStopped(vmId, c.cause(), clock.instant()))))
        .on(StopVm.class, Set.of(VmState.Stopping.class, VmState.Stopped.class), (s, c) -> Decision.unchanged())
        .on(ReportStopped.class, Set.of(VmState.Stopping.class), ofAttempt((s, c) -> Decision.persist(
            new VmStopped(vmId, Cause.system("the guest stopped"), clock.instant()))))
        .on(ReportFailed.class, Set.of(VmState.Placed.class, VmState.Starting.class, VmState.Stopping.class), ofAttempt((s, c) -> Decision.persist(new VmFailed(vmId, c.reason(), clock.instant()))))
        .on(ReportExited.class, VmLost.class, this::exited)
        .on(ReportLost.class, VmLost.class, this::lost)
        .on(DeleteVm.class, VmDeleted.class, (s, c) -> Decision.persist(new VmDeleted(vmId, c.cause(), clock.instant())))
        .readOnly(GetVm.class)
        .sideEffect(Redrive.class, (s, c) -> redrives.fire(s, agents, context.getSelf(), context.getLog()))
        .afterPersist((before, after) -> {
          capacity.afterStep(vmId, before, after);
          VmAgentWork.abortUnusedTarget(before, after, agents, context.getLog());
          home.settle(vmId, after);
          drive(after);
          redrives.follow(after);
        })
        .build();
  }

  /**
   * A command sent for the expiry of timeslot T (its cause says so) applies only while the VM is on
   * T. The evacuation decides on the catalog, which can lag behind the entity: a journal outage kept
   * a migration's events from it, and the evacuation then suspended a VM that had already moved to
   * a timeslot with 30 minutes left (found by ops/chaos, CASSANDRA_KILL/EVACUATE/DURING). Any
   * other command is decided as it is.
   */
  static <X> java.util.function.BiFunction<VmState, X, Decision<VmEvent>> whileOnExpiring(
      java.util.function.Function<X, Cause> causeOf, java.util.function.BiFunction<VmState, X, Decision<VmEvent>> decide) {
    return (state, command) -> {
      Cause cause = causeOf.apply(command);
      Placement at = state.facts().placement();
      if (cause == null || cause.kind() != Cause.Kind.TIMESLOT_EXPIRY || at != null && cause.actor().equals(at.timeslotId())) {
        return decide.apply(state, command);
      }
      return Decision.reject("it is no longer on timeslot " + cause.actor() + (at == null ? "" : " (it is on " + at.timeslotId()
          + ")") + ", so that timeslot's expiry does not apply to it");
    };
  }

  /** The identity of a side effect begun by the event about to be persisted: its sequence number. */
  private String nextAttempt() {
    return "a" + (lastSequenceNumber(context) + 1);
  }

  /**
   * Applies {@code decide} only to a report of the attempt the VM waits for; a report of another
   * attempt is rejected (and logged) without changing anything. A VM recovered from a journal
   * older than attempts has none and takes any report.
   */
  private <X extends Report> java.util.function.BiFunction<VmState, X, Decision<VmEvent>> ofAttempt(
      java.util.function.BiFunction<VmState, X, Decision<VmEvent>> decide) {
    return (state, report) -> {
      String waiting = state.facts().attempt();
      if (waiting == null || waiting.equals(report.attempt())) return decide.apply(state, report);
      context.getLog().info("VM {}: ignoring {} of attempt {}: the VM is {} in attempt {}", vmId,
          report.getClass().getSimpleName(), report.attempt(), state.stage(), waiting);
      return Decision.reject("the report " + report.getClass().getSimpleName() + " is of attempt " + report.attempt()
          + ", but the VM is " + state.stage() + " in attempt " + waiting + "; ignored");
    };
  }

  @Override
  public SignalHandler<VmState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
      if (!(state instanceof VmState.Empty)) home.settle(vmId, state);
      attach(state);
      drive(state);
      redrives.follow(state);
    }).build();
  }

  private void drive(VmState state) {
    VmAgentWork.drive(state, agents, progressTo, context.getSelf(), context.getSystem().ignoreRef());
  }

  private void attach(VmState state) {
    VmAgentWork.attach(state, agents, context.getLog());
  }

  private Decision<VmEvent> migrate(VmState state, MigrateVm cmd) {
    Placement from = state.facts().placement();
    if (Objects.equals(from.nodeId(), cmd.target().nodeId())) {
      return Decision.reject("it already runs on node " + from.nodeId() + "; migrate to another node");
    }
    progressTo = cmd.progressTo();
    return Decision.persist(new VmMigrationStarted(vmId, cmd.target(), cmd.cause(), clock.instant(), cmd.settings(), nextAttempt()));
  }

  private Decision<VmEvent> resume(VmState state, ResumeVm cmd) {
    if (state.facts().lastImage() == null) {
      return Decision.reject("it has no suspend image to resume from; place it to boot it afresh");
    }
    return Decision.persist(new VmResumeStarted(vmId, cmd.placement(), cmd.cause(), clock.instant(), nextAttempt()));
  }

  /** QEMU ended by itself on {@code nodeId}: the VM is lost there (a stopping VM is simply stopped). */
  private Decision<VmEvent> exited(VmState state, ReportExited cmd) {
    Placement at = state.facts().placement();
    boolean onThatNode = at != null && at.nodeId().equals(cmd.nodeId())
        || state instanceof VmState.Migrating m && m.target().nodeId().equals(cmd.nodeId());
    if (!onThatNode) {
      context.getLog().info("VM {}: ignoring the exit of a QEMU on node {}: the VM is {} at {}", vmId, cmd.nodeId(), state.stage(), at);
      return Decision.unchanged();
    }
    if (state instanceof VmState.Stopping) {
      return Decision.persist(new VmStopped(vmId, Cause.system("its QEMU ended while stopping: " + cmd.reason()), clock.instant()));
    }
    if (state instanceof VmState.Migrating m && m.target().nodeId().equals(cmd.nodeId()) && !at.nodeId().equals(cmd.nodeId())) {
      // the target's QEMU ended (it had not taken over: the entity is still Migrating): the source runs on
      return Decision.persist(new VmMigrationFailed(vmId, "the target's QEMU ended on node " + cmd.nodeId() + ": " + cmd.reason(),
          clock.instant()));
    }
    return Decision.persist(new VmLost(vmId, cmd.nodeId(), clock.instant(), "its QEMU ended on node " + cmd.nodeId() + ": " + cmd.reason()));
  }

  private Decision<VmEvent> lost(VmState state, ReportLost cmd) {
    Placement at = state.facts().placement();
    boolean onThatNode = at != null && at.nodeId().equals(cmd.nodeId());
    boolean migratingThere = state instanceof VmState.Migrating m && m.target().nodeId().equals(cmd.nodeId());
    if (migratingThere) {
      // The target died: the source still runs, so this is a failed migration, not a lost VM.
      return Decision.persist(new VmMigrationFailed(vmId, "target node " + cmd.nodeId() + " was lost: " + cmd.reason(), clock.instant()));
    }
    if (!onThatNode) {
      return Decision.unchanged();
    }
    return Decision.persist(new VmLost(vmId, cmd.nodeId(), clock.instant(), cmd.reason()));
  }

  @Override
  public EventHandler<VmState, VmEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(VmState.LIFECYCLE::apply);
  }

  @Override
  public Set<String> tagsFor(VmEvent event) {
    return Set.of(Tags.VM);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
