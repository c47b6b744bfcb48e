package io.ferry.journal.audit;

import io.ferry.journal.Cause;
import io.ferry.journal.Lifecycle;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Rebuilds an entity's timeline and its state at any past time from its journal, with the same
 * pure folds ({@code LIFECYCLE}) the live entities use.
 */
public final class Replay {
  private Replay() {}

  public static List<TimelineStep> vmTimeline(String vmId, List<JournalEntry> entries) {
    return timeline(VmState.LIFECYCLE, VmState.Empty.of(vmId), entries, VmState::stage);
  }

  public static VmState vmStateAt(String vmId, List<JournalEntry> entries, Instant at) {
    return stateAt(VmState.LIFECYCLE, VmState.Empty.of(vmId), entries, at);
  }

  public static List<TimelineStep> timeslotTimeline(String id, List<JournalEntry> entries) {
    return timeline(TimeslotState.LIFECYCLE, TimeslotState.Empty.of(id), entries, TimeslotState::stage);
  }

  public static TimeslotState timeslotStateAt(String id, List<JournalEntry> entries, Instant at) {
    return stateAt(TimeslotState.LIFECYCLE, TimeslotState.Empty.of(id), entries, at);
  }

  /** The event's own time if it carries one ({@code at}), else when it was journaled. */
  static Instant when(JournalEntry e) {
    if (e.event() instanceof VmEvent v) return v.at();
    if (e.event() instanceof TimeslotEvent t) return t.at();
    return e.timestamp();
  }

  @SuppressWarnings("unchecked")
  private static <S, E> List<TimelineStep> timeline(Lifecycle<S, E> lifecycle, S empty, List<JournalEntry> entries,
      Function<S, String> stage) {
    List<TimelineStep> steps = new ArrayList<>();
    S state = empty;
    for (JournalEntry entry : entries) {
      state = lifecycle.apply(state, (E) entry.event());
      String[] cause = cause(entry.event());
      steps.add(new TimelineStep(entry.sequenceNr(), when(entry), entry.event().getClass().getSimpleName(),
          stage.apply(state), cause[0], cause[1], cause[2]));
    }
    return steps;
  }

  @SuppressWarnings("unchecked")
  private static <S, E> S stateAt(Lifecycle<S, E> lifecycle, S empty, List<JournalEntry> entries, Instant at) {
    S state = empty;
    for (JournalEntry entry : entries) {
      if (when(entry).isAfter(at)) break;
      state = lifecycle.apply(state, (E) entry.event());
    }
    return state;
  }

  /** [kind, by, detail] of an event's cause. */
  static String[] cause(Object event) {
    Object cause = component(event, "cause");
    if (cause instanceof Cause c) {
      String kind = switch (c.kind()) {
        case USER -> "user";
        case TIMESLOT_EXPIRY -> "timeslot-expiry";
        case POLICY -> "policy";
        case FAILURE -> "failure";
        case SYSTEM -> "system";
      };
      return new String[] {kind, c.actor(), c.detail()};
    }
    Object reason = component(event, "reason");
    if (event instanceof TimeslotEvent.TimeslotExpiring) return new String[] {"timeslot-expiry", "", String.valueOf(reason)};
    if (reason != null) return new String[] {"failure", "", String.valueOf(reason)};
    if (event instanceof VmEvent) return new String[] {"agent", "", "reported by the node agent"};
    if (event instanceof TimeslotEvent) return new String[] {"batch-system", "", "reported by the batch system"};
    return new String[] {"system", "", ""};
  }

  private static Object component(Object record, String name) {
    if (!record.getClass().isRecord()) return null;
    for (RecordComponent c : record.getClass().getRecordComponents()) {
      if (c.getName().equals(name)) {
        try {
          return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
          return null;
        }
      }
    }
    return null;
  }
}
