package io.ferry.nodeagent.driver;

import java.time.Duration;

/**
 * How to migrate.
 *
 * @param maxBandwidthBytesPerSec bandwidth cap of the migration stream (QEMU's own default is
 *     128 MiB/s)
 * @param downtimeLimitMs         the longest pause QEMU may take to switch over
 * @param postCopy                whether a migration that does not converge in time may switch
 *     to post-copy instead of being cancelled
 * @param autoConverge            whether QEMU may throttle the guest's vCPUs to converge
 * @param deadline                how long the migration may take before it is cancelled (or
 *     switched to post-copy)
 */
public record MigrationParams(long maxBandwidthBytesPerSec, long downtimeLimitMs, boolean postCopy,
    boolean autoConverge, Duration deadline) {
  public static final MigrationParams DEFAULT =
      new MigrationParams(1L << 30, 300, false, true, Duration.ofSeconds(60));

  public MigrationParams {
    if (maxBandwidthBytesPerSec <= 0) throw new HypervisorException("migration bandwidth must be positive, was " + maxBandwidthBytesPerSec);
    if (downtimeLimitMs <= 0) throw new HypervisorException("downtime limit must be positive, was " + downtimeLimitMs);
    if (deadline == null || deadline.isNegative() || deadline.isZero()) throw new HypervisorException("migration deadline must be positive, was " + deadline);
  }

  public MigrationParams withBandwidth(long bytesPerSec) {
    return new MigrationParams(bytesPerSec, downtimeLimitMs, postCopy, autoConverge, deadline);
  }

  public MigrationParams withDeadline(Duration newDeadline) {
    return new MigrationParams(maxBandwidthBytesPerSec, downtimeLimitMs, postCopy, autoConverge, newDeadline);
  }
}
