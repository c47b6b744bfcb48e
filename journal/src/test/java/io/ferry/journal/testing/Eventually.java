package io.ferry.journal.testing;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits, with a deadline, for something outside any actor system (a file a guest or a batch job
 * writes, a process's state) by reading it again every {@code interval}. Actor state is awaited
 * with the TestKit's probes instead.
 */
public final class Eventually {
  private Eventually() {}

  /** Reads until {@code done} holds and returns that value, or fails saying what and the last value. */
  public static <T> T await(String what, Duration timeout, Duration interval, Supplier<T> read, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T last = read.get();
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what + "; last: " + last);
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
      last = read.get();
    }
    return last;
  }
}
