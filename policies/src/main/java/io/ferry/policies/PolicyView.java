package io.ferry.policies;

import java.util.List;

/**
 * The read-only view a policy decides on, handed to scripts as plain JSON (no host objects).
 *
 * @param now              epoch milliseconds
 * @param owner            whose policy runs ({@code null} for a site-wide one)
 * @param timeslots        the timeslots it may use
 * @param vms              the VMs it may act on
 * @param migrationBytesPerSecond the migration rate measured on recent migrations (or assumed)
 * @param safetyMarginSeconds     how long before a timeslot's end a migration must be done
 */
public record PolicyView(long now, String owner, List<Timeslot> timeslots, List<Vm> vms, long migrationBytesPerSecond,
    long safetyMarginSeconds) {

  /**
   * A timeslot: its stage and node, what was requested (cores, memory, walltime, partition: to ask
   * for another like it), its free room and the seconds left before its end.
   */
  public record Timeslot(String id, String stage, String node, int cores, int memoryMiB, long walltimeSeconds, String partition,
      int freeCores, int freeMemoryMiB, long secondsLeft) {}

  /** A VM: its stage, where it is, its size, and its last migration's figures (0 if none). */
  public record Vm(String id, String stage, String timeslot, String node, int vcpus, int memoryMiB, String mode,
      long lastMigrationMs, long lastDowntimeMs) {}

  public Timeslot timeslot(String id) {
    return timeslots.stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
  }

  public Vm vm(String id) {
    return vms.stream().filter(v -> v.id().equals(id)).findFirst().orElse(null);
  }
}
