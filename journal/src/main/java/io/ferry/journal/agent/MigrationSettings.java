package io.ferry.journal.agent;

import io.ferry.journal.FerrySerializable;
import java.time.Duration;

/**
 * How a live migration is to run, as decided by whoever asked for it and journaled with its start.
 *
 * @param maxBandwidthBytesPerSec cap of the migration stream
 * @param downtimeLimitMs         the longest switch-over pause allowed
 * @param postCopy                switch to post-copy instead of cancelling when the deadline passes
 * @param autoConverge            let QEMU throttle the guest to converge
 * @param deadline                how long the migration may take
 */
public record MigrationSettings(long maxBandwidthBytesPerSec, long downtimeLimitMs, boolean postCopy,
    boolean autoConverge, Duration deadline) implements FerrySerializable {
  /** 1 GiB/s, 300 ms downtime, auto-converge, no post-copy, 60 s deadline. */
  public static final MigrationSettings DEFAULT =
      new MigrationSettings(1L << 30, 300, false, true, Duration.ofSeconds(60));
}
