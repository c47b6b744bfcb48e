package io.ferry.journal.timeslot;

import io.ferry.journal.FerrySerializable;
import io.ferry.journal.Lifecycle;
import io.ferry.journal.timeslot.TimeslotEvent.*;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * A timeslot's state, one record per stage:
 * {@code Requested → Pending → Active → Expiring → Expired | Released}, with
 * {@code Cancelled} before it runs and {@code Failed} when the batch system rejects or loses it.
 */
public sealed interface TimeslotState extends FerrySerializable {
  TimeslotFacts facts();

  default String stage() {
    return Lifecycle.stage(this);
  }

  /**
   * What every stage knows. {@code jobId}, {@code nodeId}, {@code start} and {@code end} are
   * {@code null} until the batch system tells them.
   */
  record TimeslotFacts(String timeslotId, String owner, TimeslotRequest request, String backend,
      String jobId, String nodeId, Instant start, Instant end, Map<String, Reservation> reservations)
      implements FerrySerializable {
    public TimeslotFacts {
      reservations = reservations == null ? Map.of() : Map.copyOf(reservations);
    }

    static TimeslotFacts empty(String id) {
      return new TimeslotFacts(id, null, null, null, null, null, null, null, Map.of());
    }

    TimeslotFacts withJob(String newJobId) {
      return new TimeslotFacts(timeslotId, owner, request, backend, newJobId, nodeId, start, end, reservations);
    }

    TimeslotFacts withRun(String newNodeId, Instant newStart, Instant newEnd) {
      return new TimeslotFacts(timeslotId, owner, request, backend, jobId, newNodeId, newStart, newEnd, reservations);
    }

    TimeslotFacts withReservation(Reservation r) {
      Map<String, Reservation> next = new HashMap<>(reservations);
      next.put(r.vmId(), r);
      return new TimeslotFacts(timeslotId, owner, request, backend, jobId, nodeId, start, end, next);
    }

    TimeslotFacts withoutReservation(String vmId) {
      Map<String, Reservation> next = new HashMap<>(reservations);
      next.remove(vmId);
      return new TimeslotFacts(timeslotId, owner, request, backend, jobId, nodeId, start, end, next);
    }

    public int freeCores() {
      return request.cores() - reservations.values().stream().mapToInt(Reservation::vcpus).sum();
    }

    public int freeMemoryMiB() {
      return request.memoryMiB() - reservations.values().stream().mapToInt(Reservation::memoryMiB).sum();
    }

    /** Time left before the end, zero when past it or when the end is not known yet. */
    public Duration timeLeft(Instant now) {
      if (end == null || now.isAfter(end)) return Duration.ZERO;
      return Duration.between(now, end);
    }
  }

  record Empty(TimeslotFacts facts) implements TimeslotState {
    public static Empty of(String id) {
      return new Empty(TimeslotFacts.empty(id));
    }
  }

  record Requested(TimeslotFacts facts) implements TimeslotState {}

  record Pending(TimeslotFacts facts) implements TimeslotState {}

  record Active(TimeslotFacts facts) implements TimeslotState {}

  record Expiring(TimeslotFacts facts, String reason) implements TimeslotState {}

  record Expired(TimeslotFacts facts) implements TimeslotState {}

  record Released(TimeslotFacts facts) implements TimeslotState {}

  record Cancelled(TimeslotFacts facts) implements TimeslotState {}

  record Failed(TimeslotFacts facts, String reason) implements TimeslotState {}

  Lifecycle<TimeslotState, TimeslotEvent> LIFECYCLE = Lifecycle.<TimeslotState, TimeslotEvent>builder("timeslot")
      .on(TimeslotRequested.class,
          (s, e) -> new Requested(new TimeslotFacts(e.timeslotId(), e.owner(), e.request(), e.backend(),
              null, null, null, null, Map.of())),
          Empty.class)
      .on(TimeslotSubmitted.class, (s, e) -> new Pending(s.facts().withJob(e.jobId())), Requested.class)
      .on(TimeslotActivated.class, (s, e) -> new Active(s.facts().withRun(e.nodeId(), e.start(), e.end())),
          Pending.class)
      .on(TimeslotEndChanged.class, (s, e) -> withFacts(s, s.facts().withRun(s.facts().nodeId(), s.facts().start(), e.end())),
          Active.class, Expiring.class)
      .on(TimeslotExpiring.class, (s, e) -> new Expiring(s.facts(), e.reason()), Active.class)
      .on(TimeslotExpired.class, (s, e) -> new Expired(s.facts()), Active.class, Expiring.class)
      .on(TimeslotReleased.class, (s, e) -> new Released(s.facts()), Active.class, Expiring.class)
      .on(TimeslotCancelled.class, (s, e) -> new Cancelled(s.facts()), Requested.class, Pending.class)
      .on(TimeslotFailed.class, (s, e) -> new Failed(s.facts(), e.reason()),
          Requested.class, Pending.class, Active.class, Expiring.class)
      .on(CapacityReserved.class, (s, e) -> new Active(s.facts().withReservation(e.reservation())), Active.class)
      .on(CapacityFreed.class, (s, e) -> withFacts(s, s.facts().withoutReservation(e.vmId())),
          Active.class, Expiring.class, Expired.class, Released.class, Failed.class)
      .build();

  /** The same stage with new facts (for events that do not change the stage). */
  private static TimeslotState withFacts(TimeslotState s, TimeslotFacts f) {
    if (s instanceof Active) return new Active(f);
    if (s instanceof Expiring x) return new Expiring(f, x.reason());
    if (s instanceof Expired) return new Expired(f);
    if (s instanceof Released) return new Released(f);
    if (s instanceof Failed x) return new Failed(f, x.reason());
    throw new IllegalStateException("no facts update for stage " + s.stage());
  }
}
