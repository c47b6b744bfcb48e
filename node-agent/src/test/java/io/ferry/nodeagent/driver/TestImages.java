package io.ferry.nodeagent.driver;

import io.ferry.journal.testing.Eventually;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Where the tests find Ferry's tiny guest, and waits on its console with deadlines. */
public final class TestImages {
  private TestImages() {}

  /** {@code $FERRY_IMAGES}, else {@code $FERRY_STATE/images}, else {@code ~/.ferry/images}. */
  public static Path dir() {
    String images = System.getenv("FERRY_IMAGES");
    String state = System.getenv("FERRY_STATE");
    Path dir = images != null ? Path.of(images)
        : Path.of(state != null ? state : System.getProperty("user.home") + "/.ferry").resolve("images");
    if (!Files.isRegularFile(dir.resolve("tiny").resolve("base.qcow2"))) {
      throw new IllegalStateException("Ferry's tiny guest is not built in " + dir + ": run ops/guest.sh (ops/test does)");
    }
    return dir;
  }

  /** Waits (up to 30 s) until the console shows at least {@code lines} counter lines. */
  public static void awaitCounting(Path console, int lines) {
    await(() -> GuestConsole.counts(console).size() >= lines, console, "at least " + lines + " counter lines");
  }

  /** Waits (up to 30 s) until the console's counter reaches {@code n}. */
  public static void awaitCount(Path console, long n) {
    await(() -> {
      GuestConsole.Count last = GuestConsole.last(console);
      return last != null && last.n() >= n;
    }, console, "counter " + n);
  }

  /** The guest on {@code after} went on counting from where {@code before} stopped, without a boot. */
  public static void assertContinued(Path before, Path after) {
    GuestConsole.Count last = GuestConsole.last(before);
    if (last == null) throw new AssertionError("the source printed no counter on " + before);
    awaitCounting(after, 2);
    GuestConsole.Count next = GuestConsole.counts(after).get(0);
    if (!last.boot().equals(next.boot())) throw new AssertionError("boot id changed from " + last.boot() + " to " + next.boot() + ": the guest rebooted");
    if (next.n() != last.n() + 1) throw new AssertionError("the counter did not go on where it stopped: " + last.n() + " then " + next.n());
    if (GuestConsole.booted(after)) throw new AssertionError("the new QEMU's console " + after + " shows a boot");
  }

  private static void await(java.util.function.BooleanSupplier done, Path console, String what) {
    Eventually.await(what + " on " + console + " (last: " + GuestConsole.last(console) + ")", Duration.ofSeconds(30),
        Duration.ofMillis(50), done::getAsBoolean, ok -> ok);
  }

}
