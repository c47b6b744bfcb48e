package io.ferry.journal.audit;

import io.ferry.journal.IllegalTransitionException;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks invariants over a whole journal and names each violation:
 * <ul>
 *   <li>{@code sequence-gap} — an entity's sequence numbers run 1, 2, 3 … without gaps;
 *   <li>{@code illegal-transition} — every event may follow the stage before it;
 *   <li>{@code runs-twice} — a VM never runs on two nodes at once (an event that would start it
 *       while it may still run elsewhere);
 *   <li>{@code unfinished} — every migration, suspend or resume that started has ended (older than
 *       the grace period);
 *   <li>{@code after-timeslot-end} — no VM stays on a timeslot past that timeslot's end (beyond the
 *       grace period);
 *   <li>{@code reservation-held} — a timeslot that still runs holds room only for VMs that are on
 *       it or on their way to it: room kept for a VM that left (longer than the grace period) is
 *       room no other VM can get.
 * </ul>
 */
public final class Verifier {
  /** One broken invariant. */
  public record Violation(String rule, String entity, String message) {
    @Override
    public String toString() {
      return rule + ": " + message;
    }
  }

  private Verifier() {}

  /**
   * @param journal every entity's entries, in sequence order
   * @param now     the time the check is made (operations younger than the grace are in flight)
   * @param grace   how long an operation may be in flight, and how far past a timeslot's end a
   *                VM may still be recorded on it (clock skew, the last switch-over)
   */
  public static List<Violation> verify(Map<String, List<JournalEntry>> journal, Instant now, Duration grace) {
    List<Violation> violations = new ArrayList<>();
    Map<String, Instant> timeslotEnds = new HashMap<>();
    Map<String, TimeslotState> timeslots = new HashMap<>();
    for (var e : journal.entrySet()) {
      checkSequence(e.getKey(), e.getValue(), violations);
      if (e.getKey().startsWith("Timeslot|")) {
        TimeslotState last = timeslot(e.getKey(), e.getValue(), violations);
        timeslots.put(last.facts().timeslotId(), last);
        if (last.facts().end() != null) timeslotEnds.put(last.facts().timeslotId(), last.facts().end());
      }
    }
    Map<String, VmState> vms = new HashMap<>();
    Map<String, Instant> lastChange = new HashMap<>();
    for (var e : journal.entrySet()) {
      if (e.getKey().startsWith("Vm|")) {
        VmState last = checkVm(e.getKey(), e.getValue(), timeslotEnds, now, grace, violations);
        vms.put(last.vmId(), last);
        if (!e.getValue().isEmpty()) lastChange.put(last.vmId(), ((VmEvent) e.getValue().get(e.getValue().size() - 1).event()).at());
      }
    }
    for (TimeslotState slot : timeslots.values()) checkReservations(slot, vms, lastChange, now, grace, violations);
    return violations;
  }

  /** Room a running timeslot keeps for a VM that is neither on it nor moving to it. */
  private static void checkReservations(TimeslotState slot, Map<String, VmState> vms, Map<String, Instant> lastChange,
      Instant now, Duration grace, List<Violation> out) {
    boolean runs = slot instanceof TimeslotState.Pending || slot instanceof TimeslotState.Active || slot instanceof TimeslotState.Expiring;
    if (!runs) return;
    String id = slot.facts().timeslotId();
    for (String vmId : slot.facts().reservations().keySet()) {
      VmState vm = vms.get(vmId);
      Instant since = lastChange.get(vmId);
      if (vm == null || since == null || since.plus(grace).isAfter(now)) continue; // unknown, or still settling
      boolean here = vm.facts().placement() != null && id.equals(vm.facts().placement().timeslotId()) && !(vm instanceof VmState.Failed);
      boolean coming = vm instanceof VmState.Migrating m && id.equals(m.target().timeslotId());
      if (!here && !coming) {
        out.add(new Violation("reservation-held", "Timeslot|" + id, "timeslot " + id + " still holds room for VM " + vmId
            + ", which is " + vm.stage() + (vm.facts().placement() == null ? "" : " on " + vm.facts().placement()) + " since " + since));
      }
    }
  }

  private static void checkSequence(String pid, List<JournalEntry> entries, List<Violation> out) {
    long expected = 1;
    for (JournalEntry e : entries) {
      if (e.sequenceNr() != expected) {
        out.add(new Violation("sequence-gap", pid, pid + ": sequence number " + e.sequenceNr() + " follows " + (expected - 1)
            + (e.sequenceNr() > expected ? " (events " + expected + ".." + (e.sequenceNr() - 1) + " are missing)" : " (repeated)")));
      }
      expected = e.sequenceNr() + 1;
    }
  }

  /** A timeslot's last state, checking its transitions on the way. */
  private static TimeslotState timeslot(String pid, List<JournalEntry> entries, List<Violation> out) {
    TimeslotState state = TimeslotState.Empty.of(pid.substring(pid.indexOf('|') + 1));
    for (JournalEntry e : entries) {
      try {
        state = TimeslotState.LIFECYCLE.apply(state, (TimeslotEvent) e.event());
      } catch (IllegalTransitionException ex) {
        out.add(new Violation("illegal-transition", pid, pid + " #" + e.sequenceNr() + ": " + ex.getMessage()));
      }
    }
    return state;
  }

  private static VmState checkVm(String pid, List<JournalEntry> entries, Map<String, Instant> ends, Instant now,
      Duration grace, List<Violation> out) {
    String vmId = pid.substring(pid.indexOf('|') + 1);
    VmState state = VmState.Empty.of(vmId);
    Instant since = null;
    for (JournalEntry e : entries) {
      VmEvent event = (VmEvent) e.event();
      String slotBefore = state.facts().placement() == null ? null : state.facts().placement().timeslotId();
      try {
        VmState next = VmState.LIFECYCLE.apply(state, event);
        String slotAfter = next.facts().placement() == null ? null : next.facts().placement().timeslotId();
        if (slotBefore != null && !slotBefore.equals(slotAfter)) {
          leftTimeslot(vmId, slotBefore, event.at(), ends, grace, out);
        }
        if (slotAfter != null && !slotAfter.equals(slotBefore)) since = event.at();
        state = next;
      } catch (IllegalTransitionException ex) {
        boolean starts = event instanceof VmEvent.VmStarting || event instanceof VmEvent.VmStarted
            || event instanceof VmEvent.VmPlaced || event instanceof VmEvent.VmResumeStarted || event instanceof VmEvent.VmResumed;
        if (starts && state.mayRun()) {
          out.add(new Violation("runs-twice", pid, "VM " + vmId + " #" + e.sequenceNr() + ": " + event.getClass().getSimpleName()
              + " would run it again while it may still run on node " + state.facts().placement().nodeId()));
        } else {
          out.add(new Violation("illegal-transition", pid, "VM " + vmId + " #" + e.sequenceNr() + ": " + ex.getMessage()));
        }
      }
    }
    if (state instanceof VmState.Migrating m && m.since().plus(grace).isBefore(now)) {
      out.add(new Violation("unfinished", pid, "VM " + vmId + " began migrating to " + m.target() + " at " + m.since() + " and it never ended"));
    } else if (state instanceof VmState.Suspending s && s.since().plus(grace).isBefore(now)) {
      out.add(new Violation("unfinished", pid, "VM " + vmId + " began suspending at " + s.since() + " and it never ended"));
    } else if (state instanceof VmState.Resuming r && r.since().plus(grace).isBefore(now)) {
      out.add(new Violation("unfinished", pid, "VM " + vmId + " began resuming at " + r.since() + " and it never ended"));
    }
    String slot = state.facts().placement() == null ? null : state.facts().placement().timeslotId();
    boolean occupies = state.mayRun() || state instanceof VmState.Placed;
    if (slot != null && since != null && occupies) leftTimeslot(vmId, slot, now, ends, grace, out);
    return state;
  }

  private static void leftTimeslot(String vmId, String slot, Instant left, Map<String, Instant> ends, Duration grace, List<Violation> out) {
    Instant end = ends.get(slot);
    if (end != null && left.isAfter(end.plus(grace))) {
      out.add(new Violation("after-timeslot-end", "Vm|" + vmId, "VM " + vmId + " was still on timeslot " + slot + " at " + left
          + ", after the timeslot's end at " + end));
    }
  }
}
