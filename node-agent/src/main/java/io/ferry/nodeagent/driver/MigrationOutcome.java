package io.ferry.nodeagent.driver;

/**
 * How a migration ended: completed with the hypervisor's own figures, or failed with a reason
 * (the source then still runs).
 */
public record MigrationOutcome(boolean completed, long totalMs, long downtimeMs, long transferredBytes,
    boolean postCopyUsed, String failure) {
  public static MigrationOutcome completed(long totalMs, long downtimeMs, long bytes, boolean postCopy) {
    return new MigrationOutcome(true, totalMs, downtimeMs, bytes, postCopy, null);
  }

  public static MigrationOutcome failed(String reason) {
    return new MigrationOutcome(false, 0, 0, 0, false, reason);
  }
}
