package io.ferry.controlplane.demo;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** The demos wait for what the control plane does by reading it again until it is there, with a deadline. */
final class Poll {
  private Poll() {}

  static <T> T until(String what, int seconds, Supplier<T> read, Predicate<T> done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (true) {
      T value = read.get();
      if (done.test(value)) return value;
      if (System.nanoTime() > deadline) throw new IllegalStateException("gave up waiting " + seconds + " s for " + what + "; last: " + value);
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
