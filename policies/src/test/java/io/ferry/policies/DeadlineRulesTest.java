package io.ferry.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeadlineRulesTest {
  static final long RATE = 16L << 20; // 16 MiB/s: 128 MiB take ~10 s

  static PolicyView view(long sourceLeft) {
    return new PolicyView(0, "alice", List.of(
        new PolicyView.Timeslot("ts-a", "Expiring", "n1", 2, 2048, 3600, "", 0, 0, sourceLeft),
        new PolicyView.Timeslot("ts-b", "Active", "n2", 2, 2048, 3600, "", 2, 2048, 900),
        new PolicyView.Timeslot("ts-full", "Active", "n3", 2, 2048, 3600, "", 0, 0, 900),
        new PolicyView.Timeslot("ts-short", "Active", "n4", 2, 2048, 3600, "", 2, 2048, 15)),
        List.of(new PolicyView.Vm("vm-1", "Running", "ts-a", "n1", 1, 128, "DYNAMIC", 0, 0),
            new PolicyView.Vm("vm-2", "Suspended", null, null, 1, 128, "DYNAMIC", 0, 0)), RATE, 10);
  }

  static DeadlineRules.Verdict verdict(PolicyAction a, PolicyView v) {
    return DeadlineRules.check(List.of(a), v).get(0);
  }

  @Test
  void aMigrationThatCanEndInTimeIsAccepted() {
    assertTrue(verdict(new PolicyAction.Migrate("vm-1", "ts-b"), view(60)).accepted());
  }

  @Test
  void aMigrationThatCannotEndBeforeTheDeadlineIsRefusedWithTheReason() {
    var v = verdict(new PolicyAction.Migrate("vm-1", "ts-b"), view(20));
    assertFalse(v.accepted());
    assertTrue(v.reason().contains("cannot end 10 s before timeslot ts-a ends (10 s left)") && v.reason().contains("~10 s"), v.reason());
  }

  @Test
  void targetsWithoutRoomOrTimeAndForeignIdsAreRefused() {
    assertTrue(verdict(new PolicyAction.Migrate("vm-1", "ts-full"), view(60)).reason().contains("no room"));
    assertTrue(verdict(new PolicyAction.Migrate("vm-1", "ts-short"), view(60)).reason().contains("ends too soon"));
    assertTrue(verdict(new PolicyAction.Migrate("vm-9", "ts-b"), view(60)).reason().contains("no VM vm-9 of yours"));
    assertTrue(verdict(new PolicyAction.Migrate("vm-1", "ts-zzz"), view(60)).reason().contains("no timeslot ts-zzz of yours"));
    assertTrue(verdict(new PolicyAction.Release("ts-zzz"), view(60)).reason().contains("no timeslot"));
    assertTrue(verdict(new PolicyAction.Migrate("vm-2", "ts-b"), view(60)).reason().contains("is Suspended, not Running"));
  }

  @Test
  void aResumeNeedsASuspendedVmAndATimeslotWithRoom() {
    assertTrue(verdict(new PolicyAction.Resume("vm-2", "ts-b"), view(60)).accepted());
    assertTrue(verdict(new PolicyAction.Resume("vm-1", "ts-b"), view(60)).reason().contains("not Suspended or Lost"));
  }

  @Test
  void theEstimateIsMemoryOverTheMeasuredRatePlusSetup() {
    assertEquals(10, DeadlineRules.estimateSeconds(128, view(60)));
  }
}
