package io.ferry.loadtests;

import io.ferry.journal.audit.JournalEntry;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.vm.VmEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a scale run's journal (the VM and timeslot events) and finds every evacuation the run
 * needed: each stay of a VM on a timeslot that reached its warning (end − warning lead). A stay
 * is evacuated if the VM left by a completed migration, a completed suspend or a stop before the
 * timeslot's end; otherwise it is a miss, and its cause is told from what the journal shows was
 * tried between the warning and the end.
 */
final class ScaleAnalysis {
  /** A timeslot as the journal has it (end null while it never ran). */
  static final class Slot {
    String id;
    String owner;
    String node;
    Instant start;
    Instant end;
  }

  /** One evacuation the run needed, and how it went. */
  record Evacuation(String vmId, String timeslotId, Instant warning, Instant deadline, Instant done, String how, boolean inTime,
      String cause, String kind, int memoryMiB) {}

  private final Map<String, Slot> slots = new HashMap<>();
  private final Map<String, List<VmEvent>> vms = new TreeMap<>();
  private final Map<String, Integer> memory = new HashMap<>();
  private final Duration lead;
  private final Instant runEnd;
  private final List<Evacuation> evacuations = new ArrayList<>();
  private final Map<String, Double> firstStep = new LinkedHashMap<>();

  ScaleAnalysis(List<JournalEntry> timeslotEvents, List<JournalEntry> vmEvents, Duration lead, Instant runEnd) {
    this.lead = lead;
    this.runEnd = runEnd;
    for (JournalEntry e : timeslotEvents) slot(e.event());
    for (JournalEntry e : vmEvents) {
      if (e.event() instanceof VmEvent v) vms.computeIfAbsent(v.vmId(), k -> new ArrayList<>()).add(v);
    }
    vms.values().forEach(list -> list.sort(Comparator.comparing(VmEvent::at)));
    vms.forEach(this::evacuations);
    decisionLatencies();
  }

  private void slot(Object event) {
    if (!(event instanceof TimeslotEvent t)) return;
    Slot s = slots.computeIfAbsent(t.timeslotId(), id -> {
      Slot n = new Slot();
      n.id = id;
      return n;
    });
    if (t instanceof TimeslotEvent.TimeslotRequested r) s.owner = r.owner();
    else if (t instanceof TimeslotEvent.TimeslotActivated a) {
      s.node = a.nodeId();
      s.start = a.start();
      s.end = a.end();
    } else if (t instanceof TimeslotEvent.TimeslotEndChanged c) s.end = c.end();
  }

  /** The warning: the timeslot's end minus the lead (not before it started). */
  private Instant warning(Slot s) {
    Instant w = s.end.minus(lead);
    return w.isBefore(s.start) ? s.start : w;
  }

  private void evacuations(String vmId, List<VmEvent> events) {
    String on = null;
    int arrivedAt = -1;
    for (int i = 0; i < events.size(); i++) {
      VmEvent e = events.get(i);
      if (e instanceof VmEvent.VmRequested r) memory.put(vmId, r.spec().flavour().memoryMiB());
      String next = on;
      if (e instanceof VmEvent.VmPlaced p) next = p.placement().timeslotId();
      else if (e instanceof VmEvent.VmMigrated m) next = m.target().timeslotId();
      else if (e instanceof VmEvent.VmResumeStarted r) next = r.placement().timeslotId();
      else if (e instanceof VmEvent.VmSuspended || e instanceof VmEvent.VmStopped || e instanceof VmEvent.VmLost
          || e instanceof VmEvent.VmFailed || e instanceof VmEvent.VmDeleted) next = null;
      if (on != null && !on.equals(next)) stay(vmId, on, events.subList(arrivedAt, i + 1), e);
      if (next != null && !next.equals(on)) arrivedAt = i;
      on = next;
    }
    if (on != null) stay(vmId, on, events.subList(arrivedAt, events.size()), null);
  }

  /** A stay on {@code slotId} from {@code stay}'s first event, ended by {@code left} (null: still there). */
  private void stay(String vmId, String slotId, List<VmEvent> stay, VmEvent left) {
    Slot s = slots.get(slotId);
    if (s == null || s.end == null) return;
    Instant warning = warning(s);
    Instant leftAt = left == null ? null : left.at();
    if (leftAt != null && !leftAt.isAfter(warning)) return; // gone before the warning: no evacuation needed
    if (left == null && s.end.isAfter(runEnd)) return; // its timeslot outlived the run
    String how = left == null ? "still there" : left.getClass().getSimpleName().replace("Vm", "").toLowerCase();
    boolean evacuated = left instanceof VmEvent.VmMigrated || left instanceof VmEvent.VmSuspended || left instanceof VmEvent.VmStopped;
    boolean inTime = evacuated && !leftAt.isAfter(s.end);
    String[] cause = inTime ? new String[] {null, null} : cause(stay, warning, s, left);
    evacuations.add(new Evacuation(vmId, slotId, warning, s.end, leftAt, how, inTime, cause[1], cause[0], memory.getOrDefault(vmId, 0)));
  }

  /** Why a stay was not evacuated in time, from what was tried after the warning: {kind, the whole story}. */
  private String[] cause(List<VmEvent> stay, Instant warning, Slot s, VmEvent left) {
    List<String> tried = new ArrayList<>();
    boolean started = false;
    for (VmEvent e : stay) {
      if (e.at().isBefore(warning)) continue;
      String before = Duration.between(e.at(), s.end).toMillis() / 1000.0 + " s before the end";
      if (e instanceof VmEvent.VmMigrationStarted m) {
        started = true;
        tried.add("migration to " + m.target().nodeId() + " started " + before);
      } else if (e instanceof VmEvent.VmMigrationFailed f) {
        tried.add("migration failed " + before + ": " + f.reason());
      } else if (e instanceof VmEvent.VmSuspendStarted p) {
        started = true;
        tried.add("suspend started " + before + " (" + p.cause().detail() + ")");
      } else if (e instanceof VmEvent.VmSuspendFailed f) {
        tried.add("suspend failed: " + f.reason());
      }
    }
    boolean running = stay.stream().anyMatch(e -> e instanceof VmEvent.VmStarted || e instanceof VmEvent.VmMigrated
        || e instanceof VmEvent.VmResumed);
    String what;
    if (!running) what = "it was not running yet at the warning (still being placed or started)";
    else if (!started) what = "no migration or suspend was started between the warning and the end (decision backlog)";
    else if (left != null && (left instanceof VmEvent.VmMigrated || left instanceof VmEvent.VmSuspended)) {
      what = "the " + (left instanceof VmEvent.VmMigrated ? "migration" : "suspend") + " finished "
          + Duration.between(s.end, left.at()).toMillis() / 1000.0 + " s after the end: deadline too short for "
          + memory.getOrDefault(stay.get(0).vmId(), 0) + " MiB with the evacuations already queued on the node";
    } else what = "the evacuation did not finish before the job ended";
    String end = left == null ? "" : left instanceof VmEvent.VmLost l ? "; lost with node " + l.nodeId()
        : left instanceof VmEvent.VmFailed f ? "; failed: " + f.reason() : "";
    String kind = what.replaceAll("[0-9.]+ s after", "N s after").replaceAll("for \\d+ MiB", "for N MiB");
    return new String[] {kind, what + (tried.isEmpty() ? "" : " — " + String.join("; ", tried)) + end};
  }

  /** Per expiring timeslot: from the warning to the first migration or suspend started off it. */
  private void decisionLatencies() {
    Map<String, Instant> first = new HashMap<>();
    for (Evacuation ev : evacuations) {
      for (VmEvent e : vms.get(ev.vmId())) {
        boolean step = e instanceof VmEvent.VmMigrationStarted || e instanceof VmEvent.VmSuspendStarted;
        if (step && !e.at().isBefore(ev.warning()) && (ev.done() == null || !e.at().isAfter(ev.done()))) {
          first.merge(ev.timeslotId(), e.at(), (a, b) -> a.isBefore(b) ? a : b);
          break;
        }
      }
    }
    first.forEach((slot, at) -> firstStep.put(slot, (double) Duration.between(warning(slots.get(slot)), at).toMillis()));
  }

  List<Evacuation> evacuations() {
    return evacuations;
  }

  /** Milliseconds from each expiring timeslot's warning to the first evacuation step off it. */
  List<Double> decisionLatenciesMs() {
    return new ArrayList<>(firstStep.values());
  }

  long migrated() {
    return evacuations.stream().filter(e -> e.inTime() && e.how().equals("migrated")).count();
  }

  long suspended() {
    return evacuations.stream().filter(e -> e.inTime() && e.how().equals("suspended")).count();
  }

  List<Evacuation> misses() {
    return evacuations.stream().filter(e -> !e.inTime()).toList();
  }

  /** Misses grouped by the first clause of their cause. */
  Map<String, Long> missCauses() {
    Map<String, Long> c = new TreeMap<>();
    misses().forEach(m -> c.merge(m.kind(), 1L, Long::sum));
    return c;
  }

}
