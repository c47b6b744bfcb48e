package io.ferry.controlplane.entity;

import static io.ferry.controlplane.entity.EntityTestSupport.CLOCK;
import static io.ferry.controlplane.entity.EntityTestSupport.NOW;
import static io.ferry.controlplane.entity.EntityTestSupport.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.entity.Timeslot.*;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TimeslotTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(EntityTestSupport.config()).build();

  static final TimeslotRequest REQUEST = new TimeslotRequest(4, 8192, Duration.ofMinutes(30), "debug");
  static final Cause USER = Cause.user("alice");
  private final Set<Class<?>> persisted = new HashSet<>();

  private EventSourcedBehaviorTestKit<Command, TimeslotEvent, TimeslotState> slot() {
    return EventSourcedBehaviorTestKit.create(testKit.system(), Timeslot.create("slot-" + UUID.randomUUID(), CLOCK));
  }

  private StatusReply<TimeslotState> run(EventSourcedBehaviorTestKit<Command, TimeslotEvent, TimeslotState> slot,
      Function<ActorRef<StatusReply<TimeslotState>>, Command> command) {
    var result = slot.runCommand(command);
    result.events().forEach(e -> persisted.add(e.getClass()));
    return result.reply();
  }

  private EventSourcedBehaviorTestKit<Command, TimeslotEvent, TimeslotState> active(Duration endIn) {
    var slot = slot();
    run(slot, r -> new RequestTimeslot("alice", REQUEST, "slurm", USER, r));
    run(slot, r -> new RecordSubmitted("4711", r));
    var state = run(slot, r -> new Activate("n1", NOW.minusSeconds(60), NOW.plus(endIn), r)).getValue();
    assertInstanceOf(TimeslotState.Active.class, state);
    return slot;
  }

  @Test
  void aTimeslotFollowsItsJobFromRequestToExpiry() {
    var slot = slot();
    assertInstanceOf(TimeslotState.Requested.class, run(slot, r -> new RequestTimeslot("alice", REQUEST, "slurm", USER, r)).getValue());
    var pending = run(slot, r -> new RecordSubmitted("4711", r)).getValue();
    assertInstanceOf(TimeslotState.Pending.class, pending);
    assertEquals("4711", pending.facts().jobId());
    var active = run(slot, r -> new Activate("n1", NOW, NOW.plusSeconds(1800), r)).getValue();
    assertEquals("n1", active.facts().nodeId());
    assertEquals(Duration.ofSeconds(1800), active.facts().timeLeft(NOW));
    var moved = run(slot, r -> new ChangeEnd(NOW.plusSeconds(600), r)).getValue();
    assertEquals(NOW.plusSeconds(600), moved.facts().end());
    var expiring = run(slot, r -> new MarkExpiring("lead time reached", r)).getValue();
    assertInstanceOf(TimeslotState.Expiring.class, expiring);
    assertEquals(expiring, run(slot, r -> new MarkExpiring("USR1 from the batch system", r)).getValue(), "idempotent");
    run(slot, r -> new ChangeEnd(NOW.plusSeconds(300), r));
    assertInstanceOf(TimeslotState.Expired.class, run(slot, MarkExpired::new).getValue());
    assertRejected(run(slot, r -> new MarkExpiring("again", r)), "is Expired");
    assertEquals(slot.getState(), slot.restart().state());
  }

  @Test
  void capacityIsReservedOnlyWhereItFits() {
    var slot = active(Duration.ofMinutes(20));
    var held = run(slot, r -> new ReserveCapacity(new Reservation("vm-1", 2, 4096), r)).getValue();
    assertEquals(2, held.facts().freeCores());
    assertEquals(held, run(slot, r -> new ReserveCapacity(new Reservation("vm-1", 2, 4096), r)).getValue(), "idempotent");
    assertRejected(run(slot, r -> new ReserveCapacity(new Reservation("vm-1", 1, 128), r)), "already holds");
    assertRejected(run(slot, r -> new ReserveCapacity(new Reservation("vm-2", 4, 128), r)), "2 cores and 4096 MiB free");
    assertRejected(run(slot, r -> new ReserveCapacity(new Reservation("vm-2", 1, 8000), r)), "needs 1 and 8000");
    var freed = run(slot, r -> new FreeCapacity("vm-1", r)).getValue();
    assertEquals(4, freed.facts().freeCores());
    assertEquals(freed, run(slot, r -> new FreeCapacity("vm-1", r)).getValue(), "freeing twice changes nothing");
    assertEquals(slot.getState(), slot.restart().state());
  }

  @Test
  void aVmCannotBeStartedOnAnExpiringOrExpiredTimeslot() {
    var expiring = active(Duration.ofMinutes(20));
    run(expiring, r -> new MarkExpiring("lead time", r));
    assertRejected(run(expiring, r -> new ReserveCapacity(new Reservation("vm-1", 1, 128), r)),
        "is Expiring", "ReserveCapacity needs it Active");

    var pastItsEnd = active(Duration.ofSeconds(-1).plusSeconds(1)); // ends exactly now
    assertRejected(run(pastItsEnd, r -> new ReserveCapacity(new Reservation("vm-1", 1, 128), r)), "has passed");

    var expired = active(Duration.ofMinutes(5));
    run(expired, MarkExpired::new);
    assertRejected(run(expired, r -> new ReserveCapacity(new Reservation("vm-1", 1, 128), r)), "is Expired");
  }

  @Test
  void releasingBeforeTheJobRunsCancelsIt() {
    var slot = slot();
    run(slot, r -> new RequestTimeslot("alice", REQUEST, "slurm", USER, r));
    assertInstanceOf(TimeslotState.Cancelled.class, run(slot, r -> new ReleaseTimeslot(USER, r)).getValue());
    var running = active(Duration.ofMinutes(5));
    assertInstanceOf(TimeslotState.Released.class, run(running, r -> new ReleaseTimeslot(USER, r)).getValue());
    assertRejected(run(running, r -> new ReleaseTimeslot(USER, r)), "is Released");
  }

  @Test
  void aRejectedJobFailsTheTimeslotAndItsVmsCanBeFreed() {
    var slot = slot();
    run(slot, r -> new RequestTimeslot("alice", REQUEST, "slurm", USER, r));
    var failed = run(slot, r -> new FailTimeslot("sbatch: error: invalid partition specified: nope", r)).getValue();
    assertInstanceOf(TimeslotState.Failed.class, failed);
    assertTrue(((TimeslotState.Failed) failed).reason().contains("invalid partition"));

    var lostJob = active(Duration.ofMinutes(5));
    run(lostJob, r -> new ReserveCapacity(new Reservation("vm-1", 1, 128), r));
    run(lostJob, r -> new FailTimeslot("job killed", r));
    assertEquals(4, run(lostJob, r -> new FreeCapacity("vm-1", r)).getValue().facts().freeCores());
  }

  @Test
  void badActivationAndUnknownTimeslotsAreRejected() {
    var slot = slot();
    assertRejected(run(slot, r -> new RecordSubmitted("1", r)), "does not exist");
    run(slot, r -> new RequestTimeslot("alice", REQUEST, "slurm", USER, r));
    run(slot, r -> new RecordSubmitted("1", r));
    assertRejected(run(slot, r -> new Activate("n1", NOW, NOW, r)), "is not after its start");
    assertRejected(run(slot, r -> new RequestTimeslot("alice", REQUEST, "slurm", USER, r)), "already exists");
  }

  @AfterAll
  void everyEventTypeWasPersistedBySomeTest() {
    Set<Class<?>> missing = new HashSet<>(Set.of(TimeslotEvent.class.getPermittedSubclasses()));
    missing.removeAll(persisted);
    assertEquals(Set.of(), missing, "event types no test persisted");
  }
}
