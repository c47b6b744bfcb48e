package io.ferry.journal.timeslot;

import io.ferry.journal.FerrySerializable;
import java.time.Duration;
import java.util.Objects;

/**
 * What is asked of the batch system for one timeslot: one node's worth of resources for a
 * walltime, in a partition.
 *
 * @param cores     cores on the node
 * @param memoryMiB memory on the node in MiB
 * @param walltime  how long the job may run
 * @param partition the batch partition (queue); empty for the batch system's default
 */
public record TimeslotRequest(int cores, int memoryMiB, Duration walltime, String partition)
    implements FerrySerializable {
  public TimeslotRequest {
    Objects.requireNonNull(walltime, "walltime");
    partition = partition == null ? "" : partition;
    if (cores <= 0) throw new IllegalArgumentException("cores must be positive, was " + cores);
    if (memoryMiB <= 0) throw new IllegalArgumentException("memoryMiB must be positive, was " + memoryMiB);
    if (walltime.isNegative() || walltime.isZero()) {
      throw new IllegalArgumentException("walltime must be positive, was " + walltime);
    }
  }
}
