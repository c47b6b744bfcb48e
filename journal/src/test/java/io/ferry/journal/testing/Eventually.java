package io.ferry.journal.testing;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits, with a deadline, for something outside any actor system (a file a guest or a batch job
 * writes, a process's state): a probe reads it every {@code interval} on a scheduler of its own,
 * and the caller waits for the probe's answer until the deadline. Actor state is awaited with the
 * TestKit's probes instead.
 */
public final class Eventually {
  private Eventually() {}

  /**
   * Reads until {@code done} holds and returns that value, or fails saying what and the last value.
   * An exception from {@code read} or {@code done} fails the wait at once.
   */
  public static <T> T await(String what, Duration timeout, Duration interval, Supplier<T> read, Predicate<T> done) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    AtomicReference<T> last = new AtomicReference<>();
    ScheduledExecutorService probe = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "eventually: " + what);
      t.setDaemon(true);
      return t;
    });
    probe.scheduleWithFixedDelay(() -> {
      try {
        T value = read.get();
        last.set(value);
        if (done.test(value)) answer.complete(value);
      } catch (RuntimeException | Error e) {
        answer.completeExceptionally(e);
      }
    }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what + "; last: " + last.get());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      if (e.getCause() instanceof Error r) throw r;
      throw new AssertionError(what + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    } finally {
      probe.shutdownNow();
    }
  }
}
