package io.ferry.controlplane.timeslots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.timeslots.EvacuationPlanner.Params;
import io.ferry.controlplane.timeslots.EvacuationPlanner.Step;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.timeslot.TimeslotState.TimeslotFacts;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmFacts;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The built-in evacuation's decisions: live when it can finish in time, suspend when it cannot. */
class EvacuationPlannerTest {
  static final Instant NOW = Instant.parse("2026-11-24T09:00:00Z");
  static final Params PARAMS = new Params(Duration.ofSeconds(60), 100L << 20, Duration.ofSeconds(10), 2);

  static TimeslotFacts facts(String id, String owner, int cores, int mem, Instant end, Map<String, Reservation> held) {
    return new TimeslotFacts(id, owner, new TimeslotRequest(cores, mem, Duration.ofHours(1), ""), "local", "1", "n-" + id,
        NOW.minusSeconds(600), end, held);
  }

  static TimeslotState active(String id, String owner, int secondsLeft) {
    return new TimeslotState.Active(facts(id, owner, 4, 8192, NOW.plusSeconds(secondsLeft), Map.of()));
  }

  static TimeslotState expiring(int secondsLeft) {
    return new TimeslotState.Expiring(facts("old", "alice", 4, 8192, NOW.plusSeconds(secondsLeft),
        Map.of("v", new Reservation("v", 1, 128))), "lead time");
  }

  static VmState running(Flavour flavour, VmMode mode) {
    return new VmState.Running(new VmFacts("v", new VmSpec("alice", flavour, "tiny", mode), new Placement("old", "n-old"), null, null));
  }

  @Test
  void aVmMovesLiveToTheOwnersTimeslotWithTheMostTimeLeft() {
    Step step = EvacuationPlanner.decide(running(Flavour.TINY, VmMode.DYNAMIC), expiring(50),
        List.of(active("a", "alice", 600), active("b", "alice", 3000), active("c", "bob", 9000)), 0, NOW, PARAMS);
    Step.Migrate m = assertInstanceOf(Step.Migrate.class, step);
    assertEquals("b", m.target().facts().timeslotId());
    assertEquals(Duration.ofSeconds(40), m.deadline(), "end minus the safety margin");
    assertTrue(m.estimate().compareTo(m.deadline()) < 0);
  }

  @Test
  void aMigrationThatCannotFinishBeforeTheDeadlineIsNotStartedTheVmIsSuspended() {
    // 16 GiB at 100 MiB/s needs ~166 s; the expiring timeslot ends in 60 s
    Step step = EvacuationPlanner.decide(running(Flavour.XLARGE, VmMode.DYNAMIC), expiring(60),
        List.of(new TimeslotState.Active(facts("big", "alice", 16, 65536, NOW.plusSeconds(7200), Map.of()))), 0, NOW, PARAMS);
    Step.Suspend s = assertInstanceOf(Step.Suspend.class, step);
    assertTrue(s.reason().contains("cannot end 10 s before the timeslot's end"), s.reason());
  }

  @Test
  void withNoTimeslotWithRoomAndTimeTheVmIsSuspended() {
    var full = new TimeslotState.Active(facts("full", "alice", 1, 128, NOW.plusSeconds(3000), Map.of("x", new Reservation("x", 1, 128))));
    var short_ = active("short", "alice", 62); // less than the lead (60 s) plus the estimate (~3 s)
    var expiringToo = new TimeslotState.Expiring(facts("other", "alice", 4, 8192, NOW.plusSeconds(3000), Map.of()), "warned");
    Step step = EvacuationPlanner.decide(running(Flavour.TINY, VmMode.DYNAMIC), expiring(50), List.of(full, short_, expiringToo), 0, NOW, PARAMS);
    assertInstanceOf(Step.Suspend.class, step);
  }

  @Test
  void aStaticVmEndsWithItsTimeslot() {
    assertInstanceOf(Step.Stop.class, EvacuationPlanner.decide(running(Flavour.TINY, VmMode.STATIC), expiring(50),
        List.of(active("b", "alice", 3000)), 0, NOW, PARAMS));
  }

  @Test
  void aNodeSendsAtMostNMigrationsAtOnce() {
    assertInstanceOf(Step.Wait.class, EvacuationPlanner.decide(running(Flavour.TINY, VmMode.DYNAMIC), expiring(50),
        List.of(active("b", "alice", 3000)), 2, NOW, PARAMS));
  }

  @Test
  void aVmSuspendedByAnExpiryOrAPolicyIsResumedByTheEvacuationOneItsUserSuspendedIsNot() {
    VmFacts f = new VmFacts("v", new VmSpec("alice", Flavour.TINY, "tiny", VmMode.DYNAMIC), null,
        "/shared/suspend/v-1.state", "a7");
    VmState suspended = new VmState.Suspended(f);
    assertTrue(Evacuation.resumesByItself(suspended, io.ferry.journal.Cause.expiry("old")));
    assertTrue(Evacuation.resumesByItself(suspended, io.ferry.journal.Cause.policy("policy alice/evacuate v1", "line 19")));
    assertFalse(Evacuation.resumesByItself(suspended, io.ferry.journal.Cause.user("alice")),
        "a user's suspend stays until the user resumes it");
    assertFalse(Evacuation.resumesByItself(suspended, null), "a suspend the catalog has not seen is not acted on");
    VmState stat = new VmState.Suspended(new VmFacts("v", new VmSpec("alice", Flavour.TINY, "tiny", VmMode.STATIC),
        null, "/shared/suspend/v-1.state", "a7"));
    assertFalse(Evacuation.resumesByItself(stat, io.ferry.journal.Cause.expiry("old")), "a static VM lives with its timeslot");
    assertFalse(Evacuation.resumesByItself(new VmState.Running(f), io.ferry.journal.Cause.expiry("old")));
  }
}
