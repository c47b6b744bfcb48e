package io.ferry.loadtests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.Cause;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.audit.JournalEntry;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scale report's reading of a journal: which stays needed an evacuation, how each went, and why misses missed. */
class ScaleAnalysisTest {
  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
  private static final Duration LEAD = Duration.ofSeconds(60);
  private final List<JournalEntry> slots = new ArrayList<>();
  private final List<JournalEntry> vms = new ArrayList<>();

  private static Instant at(int seconds) {
    return T0.plusSeconds(seconds);
  }

  private void slot(String id, String node, int end) {
    slots.add(entry("Timeslot|" + id, new TimeslotEvent.TimeslotRequested(id, "ann", new TimeslotRequest(8, 8192, Duration.ofSeconds(end), null),
        "sim", Cause.user("ann"), at(0))));
    slots.add(entry("Timeslot|" + id, new TimeslotEvent.TimeslotActivated(id, node, at(0), at(end), at(1))));
  }

  private void vm(String id, String slot, Object... later) {
    vms.add(entry("Vm|" + id, new VmEvent.VmRequested(id, new VmSpec("ann", Flavour.SMALL, "tiny", VmMode.DYNAMIC), Cause.user("ann"), at(2))));
    vms.add(entry("Vm|" + id, new VmEvent.VmPlaced(id, new Placement(slot, "n-" + slot), Cause.user("ann"), at(3), "a1")));
    vms.add(entry("Vm|" + id, new VmEvent.VmStarted(id, at(4))));
    for (Object e : later) vms.add(entry("Vm|" + id, e));
  }

  private static JournalEntry entry(String pid, Object event) {
    return new JournalEntry(pid, 1, T0, event);
  }

  @Test
  void eachStayOnAnExpiringTimeslotIsOneEvacuationAndEveryMissSaysWhy() {
    slot("a", "n1", 100); // warning at 40 s, end at 100 s
    slot("b", "n2", 1000);
    Placement toB = new Placement("b", "n2");
    vm("v1", "a", new VmEvent.VmMigrationStarted("v1", toB, Cause.expiry("a"), at(45), MigrationSettings.DEFAULT, "a1"),
        new VmEvent.VmMigrated("v1", toB, new MigrationStats(2000, 30, 1 << 30), at(47)));
    vm("v2", "a", new VmEvent.VmSuspendStarted("v2", "/s/v2", Cause.system("no timeslot with room"), at(95), "a1"),
        new VmEvent.VmSuspended("v2", "/s/v2", 1 << 30, at(105)));
    vm("v3", "a", new VmEvent.VmLost("v3", "n1", at(101), "its QEMU exited"));
    vm("v4", "a", new VmEvent.VmMigrationStarted("v4", toB, Cause.user("ann"), at(9), MigrationSettings.DEFAULT, "a1"),
        new VmEvent.VmMigrated("v4", toB, new MigrationStats(1000, 20, 1 << 30), at(10)));
    vm("v5", "b");

    ScaleAnalysis analysis = new ScaleAnalysis(slots, vms, LEAD, at(200));

    assertEquals(3, analysis.evacuations().size(), "v1, v2 and v3 were on a when it was warned; v4 had left, v5 is on b: "
        + analysis.evacuations());
    assertEquals(1, analysis.migrated());
    assertEquals(0, analysis.suspended(), "v2's suspend ended after the end");
    assertEquals(2, analysis.misses().size());
    var v2 = analysis.misses().stream().filter(m -> m.vmId().equals("v2")).findFirst().orElseThrow();
    assertTrue(v2.cause().startsWith("the suspend finished 5.0 s after the end"), v2.cause());
    assertTrue(v2.cause().contains("suspend started 5.0 s before the end (no timeslot with room)"), v2.cause());
    var v3 = analysis.misses().stream().filter(m -> m.vmId().equals("v3")).findFirst().orElseThrow();
    assertTrue(v3.cause().startsWith("no migration or suspend was started"), v3.cause());
    assertTrue(v3.cause().endsWith("lost with node n1"), v3.cause());
    assertEquals(List.of(5000.0), analysis.decisionLatenciesMs(), "from a's warning (40 s) to v1's migration (45 s)");
    assertEquals(Map.of("no migration or suspend was started between the warning and the end (decision backlog)", 1L,
        "the suspend finished N s after the end: deadline too short for N MiB with the evacuations already queued on the node", 1L),
        analysis.missCauses());
  }

  @Test
  void aStayWhoseTimeslotOutlivesTheRunNeedsNoEvacuation() {
    slot("long", "n1", 1000);
    vm("v1", "long");
    assertTrue(new ScaleAnalysis(slots, vms, LEAD, at(200)).evacuations().isEmpty());
  }
}
