package io.ferry.controlplane.entity;

import io.ferry.journal.Cause;
import io.ferry.journal.Tags;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotEvent.*;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.timeslot.TimeslotState.TimeslotFacts;
import java.time.Clock;
import java.time.Instant;
import io.ferry.controlplane.batch.BatchSystem;
import io.ferry.controlplane.batch.BatchSystems;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One timeslot: a batch job's allocation of one node, followed from request to end. Capacity for
 * VMs is reserved here, so a VM can only be placed on a timeslot that is Active, has room, and has
 * not reached its end. Lifecycle: {@link TimeslotState#LIFECYCLE}.
 */
public final class Timeslot
    extends EventSourcedBehaviorWithEnforcedReplies<Timeslot.Command, TimeslotEvent, TimeslotState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Timeslot");

  public sealed interface Command extends EntityCommand<TimeslotState> {}

  /** Ask for a timeslot, to be submitted to a batch backend. */
  public record RequestTimeslot(String owner, TimeslotRequest request, String backend, Cause cause,
      ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** The batch system accepted the job. */
  public record RecordSubmitted(String jobId, ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** The job runs on {@code nodeId} from {@code start} until {@code end}. */
  public record Activate(String nodeId, Instant start, Instant end,
      ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** The batch system moved the job's end. */
  public record ChangeEnd(Instant end, ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** The end is near; evacuate. Repeating it (lead time and signal both) changes nothing. */
  public record MarkExpiring(String reason, ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  public record MarkExpired(ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** Give the timeslot back: a running one is released, one not yet running is cancelled. */
  public record ReleaseTimeslot(Cause cause, ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  public record FailTimeslot(String reason, ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** Reserve room for a VM; repeating it for the same VM changes nothing. */
  public record ReserveCapacity(Reservation reservation, ActorRef<StatusReply<TimeslotState>> replyTo)
      implements Command {}

  /** Give a VM's room back; freeing a VM that holds none changes nothing. */
  public record FreeCapacity(String vmId, ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  public record GetTimeslot(ActorRef<StatusReply<TimeslotState>> replyTo) implements Command {}

  /** Starts sharding of timeslots on members with {@code role}; {@code batch} submits their jobs (null: none). */
  public static void init(ActorSystem<?> system, String role, Clock clock, BatchSystems batch) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), clock, batch)).withRole(role));
  }

  public static Behavior<Command> create(String timeslotId, Clock clock) {
    return create(timeslotId, clock, null);
  }

  public static Behavior<Command> create(String timeslotId, Clock clock, BatchSystems batch) {
    return Behaviors.setup(context -> new Timeslot(context, timeslotId, clock, batch));
  }

  private final ActorContext<Command> context;
  private final String timeslotId;
  private final Clock clock;
  private final BatchSystems batch;

  private Timeslot(ActorContext<Command> context, String timeslotId, Clock clock, BatchSystems batch) {
    super(PersistenceId.of(ENTITY_KEY.name(), timeslotId), PersistFailures.restartWithBackoff());
    this.context = context;
    this.timeslotId = timeslotId;
    this.clock = clock;
    this.batch = batch;
  }

  /**
   * A requested timeslot is submitted to its batch backend, after the request is persisted and
   * again after a recovery that finds it still unsubmitted (a crash between submit and record can
   * submit twice; the keeper cancels a job whose timeslot already has another).
   */
  private void submit(TimeslotState state) {
    if (batch == null || !(state instanceof TimeslotState.Requested)) return;
    var f = state.facts();
    if (!batch.submits(f.backend())) return;
    var job = new BatchSystem.JobSpec("ferry-" + timeslotId, f.request(), batch.warningLead(), batch.agentCommand(),
        Map.of("FERRY_TIMESLOT", timeslotId));
    ActorRef<StatusReply<TimeslotState>> ignore = context.getSystem().ignoreRef();
    context.pipeToSelf(batch.call(f.backend(), b -> b.submit(job)), (jobId, error) -> error == null
        ? new RecordSubmitted(jobId, ignore)
        : new FailTimeslot("the " + f.backend() + " batch system did not take the job: " + rootMessage(error), ignore));
  }

  private static String rootMessage(Throwable e) {
    while (e.getCause() != null) e = e.getCause();
    return e.getMessage();
  }

  @Override
  public SignalHandler<TimeslotState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::submit).build();
  }

  @Override
  public TimeslotState emptyState() {
    return TimeslotState.Empty.of(timeslotId);
  }

  @Override
  public CommandHandlerWithReply<Command, TimeslotEvent, TimeslotState> commandHandler() {
    var notRunning = Set.<Class<? extends TimeslotState>>of(TimeslotState.Requested.class, TimeslotState.Pending.class);
    return new StageHandlers<Command, TimeslotEvent, TimeslotState>(
            newCommandHandlerWithReplyBuilder(), Effect(), TimeslotState.LIFECYCLE, s -> "timeslot " + timeslotId, "timeslot")
        .on(RequestTimeslot.class, TimeslotRequested.class, (s, c) -> Decision.persist(new TimeslotRequested(
            timeslotId, c.owner(), c.request(), c.backend(), c.cause(), clock.instant())))
        .on(RecordSubmitted.class, TimeslotSubmitted.class, (s, c) -> Decision.persist(
            new TimeslotSubmitted(timeslotId, c.jobId(), clock.instant())))
        .on(Activate.class, TimeslotActivated.class, this::activate)
        .on(ChangeEnd.class, TimeslotEndChanged.class, (s, c) -> Decision.persist(
            new TimeslotEndChanged(timeslotId, c.end(), clock.instant())))
        .on(MarkExpiring.class, TimeslotExpiring.class, (s, c) -> Decision.persist(
            new TimeslotExpiring(timeslotId, c.reason(), clock.instant())))
        .on(MarkExpiring.class, Set.of(TimeslotState.Expiring.class), (s, c) -> Decision.unchanged())
        .on(MarkExpired.class, TimeslotExpired.class, (s, c) -> Decision.persist(new TimeslotExpired(timeslotId, clock.instant())))
        .on(ReleaseTimeslot.class, TimeslotReleased.class, (s, c) -> Decision.persist(
            new TimeslotReleased(timeslotId, c.cause(), clock.instant())))
        .on(ReleaseTimeslot.class, notRunning, (s, c) -> Decision.persist(
            new TimeslotCancelled(timeslotId, c.cause(), clock.instant())))
        .on(FailTimeslot.class, TimeslotFailed.class, (s, c) -> Decision.persist(
            new TimeslotFailed(timeslotId, c.reason(), clock.instant())))
        .on(ReserveCapacity.class, CapacityReserved.class, this::reserve)
        .on(FreeCapacity.class, CapacityFreed.class, (s, c) -> s.facts().reservations().containsKey(c.vmId())
            ? Decision.persist(new CapacityFreed(timeslotId, c.vmId(), clock.instant()))
            : Decision.unchanged())
        .readOnly(GetTimeslot.class)
        .afterPersist((before, after) -> submit(after))
        .build();
  }

  private Decision<TimeslotEvent> activate(TimeslotState state, Activate cmd) {
    if (!cmd.end().isAfter(cmd.start())) {
      return Decision.reject("its end " + cmd.end() + " is not after its start " + cmd.start());
    }
    return Decision.persist(new TimeslotActivated(timeslotId, cmd.nodeId(), cmd.start(), cmd.end(), clock.instant()));
  }

  private Decision<TimeslotEvent> reserve(TimeslotState state, ReserveCapacity cmd) {
    TimeslotFacts facts = state.facts();
    Reservation r = cmd.reservation();
    Reservation held = facts.reservations().get(r.vmId());
    if (r.equals(held)) {
      return Decision.unchanged();
    }
    if (held != null) {
      return Decision.reject("VM " + r.vmId() + " already holds " + held.vcpus() + " vCPUs and "
          + held.memoryMiB() + " MiB here; free it first");
    }
    Instant now = clock.instant();
    if (!now.isBefore(facts.end())) {
      return Decision.reject("its end " + facts.end() + " has passed; place the VM on another timeslot");
    }
    if (r.vcpus() > facts.freeCores() || r.memoryMiB() > facts.freeMemoryMiB()) {
      return Decision.reject("it has " + facts.freeCores() + " cores and " + facts.freeMemoryMiB()
          + " MiB free, VM " + r.vmId() + " needs " + r.vcpus() + " and " + r.memoryMiB());
    }
    return Decision.persist(new CapacityReserved(timeslotId, r, now));
  }

  @Override
  public EventHandler<TimeslotState, TimeslotEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(TimeslotState.LIFECYCLE::apply);
  }

  @Override
  public Set<String> tagsFor(TimeslotEvent event) {
    return Set.of(Tags.TIMESLOT);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
