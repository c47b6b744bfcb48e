package io.ferry.controlplane.timeslots;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.OptionalLong;

/**
 * The migration rate measured on recent live migrations, for the evacuation's deadline estimates:
 * each finished migration contributes its VM's memory size over QEMU's total time (so an estimate
 * of memory ÷ rate predicts the whole migration, setup and dirty-page rounds included). The
 * estimate uses the slowest of the last {@link #WINDOW} migrations, so one fast idle guest does not
 * make the next, busier one look safe. Thread-safe.
 */
public final class MigrationRates {
  /** How many recent migrations are remembered. */
  public static final int WINDOW = 8;
  /** Migrations shorter than this say more about QEMU's setup than about the network: ignored. */
  private static final long MIN_TOTAL_MS = 100;

  private final Deque<Long> recent = new ArrayDeque<>();

  /** Records a finished migration of a VM with {@code memoryMiB} that took {@code totalMs}. */
  public synchronized void record(long memoryMiB, long totalMs) {
    if (totalMs < MIN_TOTAL_MS || memoryMiB <= 0) return;
    recent.addLast((memoryMiB << 20) * 1000 / totalMs);
    while (recent.size() > WINDOW) recent.removeFirst();
  }

  /** Bytes per second of the slowest recent migration, or empty before any was measured. */
  public synchronized OptionalLong bytesPerSecond() {
    return recent.stream().mapToLong(Long::longValue).min();
  }
}
