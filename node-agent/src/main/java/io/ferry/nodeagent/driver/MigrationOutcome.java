package io.ferry.nodeagent.driver;

/**
 * How a migration ended: completed with the hypervisor's own figures, or failed with a reason.
 * After a failure the source runs on, unless {@code guestLost}: post-copy had begun, so the
 * guest's memory is split between source and target and neither may run it.
 */
public record MigrationOutcome(boolean completed, long totalMs, long downtimeMs, long transferredBytes,
    boolean postCopyUsed, String failure, boolean guestLost) {
  public static MigrationOutcome completed(long totalMs, long downtimeMs, long bytes, boolean postCopy) {
    return new MigrationOutcome(true, totalMs, downtimeMs, bytes, postCopy, null, false);
  }

  public static MigrationOutcome failed(String reason) {
    return new MigrationOutcome(false, 0, 0, 0, false, reason, false);
  }

  /** Post-copy had begun when the migration failed: the guest can run on neither side. */
  public static MigrationOutcome guestLost(String reason) {
    return new MigrationOutcome(false, 0, 0, 0, true, reason, true);
  }
}
