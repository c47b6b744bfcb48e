package io.ferry.journal.timeslot;

import io.ferry.journal.Cause;
import io.ferry.journal.FerrySerializable;
import java.time.Instant;

/** What happened to a timeslot (one batch allocation on one node), as journaled. */
public sealed interface TimeslotEvent extends FerrySerializable {
  String timeslotId();

  Instant at();

  /** A timeslot was asked for, to be submitted to {@code backend} (for example "slurm", "local"). */
  record TimeslotRequested(String timeslotId, String owner, TimeslotRequest request, String backend,
      Cause cause, Instant at) implements TimeslotEvent {}

  /** The batch system accepted the job; it waits in the queue. */
  record TimeslotSubmitted(String timeslotId, String jobId, Instant at) implements TimeslotEvent {}

  /** The job runs: its agent registered from {@code nodeId}; it ends at {@code end}. */
  record TimeslotActivated(String timeslotId, String nodeId, Instant start, Instant end, Instant at)
      implements TimeslotEvent {}

  /** The batch system moved the job's end. */
  record TimeslotEndChanged(String timeslotId, Instant end, Instant at) implements TimeslotEvent {}

  /** The end is near (lead time reached, or the batch system's warning signal): evacuate. */
  record TimeslotExpiring(String timeslotId, String reason, Instant at) implements TimeslotEvent {}

  /** The job ended at its walltime. */
  record TimeslotExpired(String timeslotId, Instant at) implements TimeslotEvent {}

  /** The owner gave the timeslot back before its end. */
  record TimeslotReleased(String timeslotId, Cause cause, Instant at) implements TimeslotEvent {}

  /** The request was withdrawn before the job ran. */
  record TimeslotCancelled(String timeslotId, Cause cause, Instant at) implements TimeslotEvent {}

  /** The batch system rejected or lost the job. */
  record TimeslotFailed(String timeslotId, String reason, Instant at) implements TimeslotEvent {}

  /** A VM took capacity on the timeslot. */
  record CapacityReserved(String timeslotId, Reservation reservation, Instant at) implements TimeslotEvent {}

  /** A VM gave its capacity back (it left, stopped or failed). */
  record CapacityFreed(String timeslotId, String vmId, Instant at) implements TimeslotEvent {}
}
