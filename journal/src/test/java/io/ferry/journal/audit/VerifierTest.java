package io.ferry.journal.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.TimeslotEvent.*;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent.*;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import io.ferry.journal.timeslot.Reservation;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The audit engine on journals built by hand: clean ones pass, each kind of damage is named. */
class VerifierTest {
  static final Instant T0 = Instant.parse("2026-11-24T08:00:00Z");
  static final VmSpec SPEC = new VmSpec("alice", Flavour.TINY, "tiny", VmMode.DYNAMIC);
  static final Placement A = new Placement("s1", "n1");
  static final Placement B = new Placement("s2", "n2");

  private static List<JournalEntry> entries(String pid, Object... events) {
    List<JournalEntry> list = new ArrayList<>();
    for (int i = 0; i < events.length; i++) list.add(new JournalEntry(pid, i + 1, T0, events[i]));
    return list;
  }

  private static Instant t(int seconds) {
    return T0.plusSeconds(seconds);
  }

  private static List<JournalEntry> slot(String id, String node, int endSeconds) {
    return entries("Timeslot|" + id,
        new TimeslotRequested(id, "alice", new TimeslotRequest(2, 2048, Duration.ofMinutes(10), ""), "local", Cause.user("alice"), t(0)),
        new TimeslotSubmitted(id, "1", t(1)),
        new TimeslotActivated(id, node, t(2), t(endSeconds), t(2)));
  }

  private static List<JournalEntry> ferriedVm() {
    return entries("Vm|v1",
        new VmRequested("v1", SPEC, Cause.user("alice"), t(3)),
        new VmPlaced("v1", A, Cause.user("alice"), t(4), "a1"),
        new VmStarting("v1", t(5)),
        new VmStarted("v1", t(6)),
        new VmMigrationStarted("v1", B, Cause.expiry("s1"), t(50), null, "a1"),
        new VmMigrated("v1", B, new MigrationStats(700, 40, 1 << 20), t(51)),
        new VmStopRequested("v1", Cause.user("alice"), t(80), "a1"),
        new VmStopped("v1", Cause.system("stopped"), t(81)));
  }

  private static Map<String, List<JournalEntry>> journal(List<List<JournalEntry>> parts) {
    Map<String, List<JournalEntry>> j = new LinkedHashMap<>();
    for (List<JournalEntry> p : parts) j.put(p.get(0).persistenceId(), p);
    return j;
  }

  @Test
  void aCleanJournalHasNoViolations() {
    var j = journal(List.of(slot("s1", "n1", 60), slot("s2", "n2", 600), ferriedVm()));
    assertEquals(List.of(), Verifier.verify(j, t(1000), Duration.ofSeconds(5)));
  }

  /** A failed migration that kept its target's room: no other VM could get it. */
  @Test
  void roomKeptForAVmThatLeftIsNamedAndRoomOfAVmThatIsThereIsNot() {
    List<JournalEntry> s2 = new ArrayList<>(slot("s2", "n2", 6000));
    s2.add(new JournalEntry("Timeslot|s2", 4, T0, new CapacityReserved("s2", new Reservation("v9", 1, 128), t(10))));
    s2.add(new JournalEntry("Timeslot|s2", 5, T0, new CapacityReserved("s2", new Reservation("v8", 1, 128), t(10))));
    var left = entries("Vm|v9", new VmRequested("v9", SPEC, Cause.user("alice"), t(3)), new VmPlaced("v9", A, Cause.user("alice"), t(4), "a2"),
        new VmStarting("v9", t(5)), new VmStarted("v9", t(6)), new VmMigrationStarted("v9", B, Cause.user("alice"), t(10), null, "a5"),
        new VmMigrationFailed("v9", "the target could not prepare", t(11)));
    var there = entries("Vm|v8", new VmRequested("v8", SPEC, Cause.user("alice"), t(3)), new VmPlaced("v8", B, Cause.user("alice"), t(4), "a2"),
        new VmStarting("v8", t(5)), new VmStarted("v8", t(6)));
    var v = Verifier.verify(journal(List.of(slot("s1", "n1", 6000), s2, left, there)), t(1000), Duration.ofSeconds(5));
    assertEquals(1, v.size(), v.toString());
    assertEquals("reservation-held", v.get(0).rule());
    assertTrue(v.get(0).message().contains("room for VM v9") && v.get(0).message().contains("Running on s1@n1"), v.get(0).message());
    assertEquals(List.of(), Verifier.verify(journal(List.of(slot("s1", "n1", 6000), s2, left, there)), t(12), Duration.ofSeconds(5)),
        "a VM that left moments ago is still settling");
  }

  @Test
  void aVmLeftOnATimeslotPastItsEndIsNamed() {
    var j = journal(List.of(slot("s1", "n1", 40), slot("s2", "n2", 600), ferriedVm()));
    var v = Verifier.verify(j, t(1000), Duration.ofSeconds(5));
    assertEquals(1, v.size(), v.toString());
    assertEquals("after-timeslot-end", v.get(0).rule());
    assertTrue(v.get(0).message().contains("timeslot s1"), v.get(0).message());
  }

  @Test
  void aMigrationThatNeverEndedIsNamed() {
    var vm = entries("Vm|v2", new VmRequested("v2", SPEC, Cause.user("alice"), t(3)), new VmPlaced("v2", A, Cause.user("alice"), t(4), "a1"),
        new VmStarting("v2", t(5)), new VmStarted("v2", t(6)), new VmMigrationStarted("v2", B, Cause.user("alice"), t(7), null, "a1"));
    var v = Verifier.verify(journal(List.of(vm)), t(1000), Duration.ofSeconds(60));
    assertEquals("unfinished", v.get(0).rule());
    assertTrue(v.get(0).message().contains("began migrating"), v.get(0).message());
    assertEquals(List.of(), Verifier.verify(journal(List.of(vm)), t(30), Duration.ofSeconds(60)), "still in flight");
  }

  @Test
  void aVmStartedAgainWhileRunningIsNamedRunsTwice() {
    var vm = entries("Vm|v3", new VmRequested("v3", SPEC, Cause.user("alice"), t(3)), new VmPlaced("v3", A, Cause.user("alice"), t(4), "a1"),
        new VmStarting("v3", t(5)), new VmStarted("v3", t(6)), new VmPlaced("v3", B, Cause.user("mallory"), t(7), "a1"));
    var v = Verifier.verify(journal(List.of(vm)), t(8), Duration.ofSeconds(60));
    assertEquals("runs-twice", v.get(0).rule());
    assertTrue(v.get(0).message().contains("node n1"), v.get(0).message());
  }

  @Test
  void gapsInSequenceNumbersAreNamed() {
    List<JournalEntry> vm = new ArrayList<>(entries("Vm|v4", new VmRequested("v4", SPEC, Cause.user("alice"), t(3))));
    vm.add(new JournalEntry("Vm|v4", 3, T0, new VmPlaced("v4", A, Cause.user("alice"), t(4), "a1")));
    var v = Verifier.verify(journal(List.of(vm)), t(8), Duration.ofSeconds(60));
    assertEquals("sequence-gap", v.get(0).rule());
    assertTrue(v.get(0).message().contains("events 2..2 are missing"), v.get(0).message());
  }

  @Test
  void theTimelineGivesEachStepsCauseAndTheStateAtAnyTime() {
    var entries = ferriedVm();
    var steps = Replay.vmTimeline("v1", entries);
    assertEquals(8, steps.size());
    assertEquals("user", steps.get(0).cause());
    assertEquals("alice", steps.get(0).by());
    assertEquals("agent", steps.get(3).cause());
    assertEquals("timeslot-expiry", steps.get(4).cause());
    assertEquals("s1", steps.get(4).by());
    assertEquals("Migrating", steps.get(4).stageAfter());
    VmState at = Replay.vmStateAt("v1", entries, t(20));
    assertEquals("Running", at.stage());
    assertEquals(A, at.facts().placement());
    assertEquals(B, Replay.vmStateAt("v1", entries, t(60)).facts().placement());
    assertEquals("Empty", Replay.vmStateAt("v1", entries, t(0)).stage());
  }
}
