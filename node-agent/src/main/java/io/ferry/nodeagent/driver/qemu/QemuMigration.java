package io.ferry.nodeagent.driver.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.nodeagent.driver.MigrationOutcome;
import io.ferry.nodeagent.driver.MigrationParams;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.ProgressTracker;
import io.ferry.nodeagent.qmp.QmpException;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a QEMU migration (live, or to a suspend file) to its end: polls {@code query-migrate},
 * reports progress, cancels on request, and at the deadline switches to post-copy if allowed or
 * cancels, after which the source must run on.
 */
final class QemuMigration {
  private static final Logger log = LoggerFactory.getLogger(QemuMigration.class);

  /** How long QEMU is given to fill in a completed migration's figures (QEMU 7.2 fills them just after). */
  static final Duration FIGURES_PATIENCE = Duration.ofSeconds(2);

  private QemuMigration() {}

  /**
   * QEMU 7.2 sets a migration's status to {@code completed} a moment before it computes
   * {@code total-time} and {@code downtime} (both then read 0). Re-reads {@code query-migrate}
   * until {@code total-time} is filled in, for at most {@code patience}; returns the last reply.
   */
  static JsonNode settledFigures(JsonNode completed, Supplier<JsonNode> query, Duration patience) {
    JsonNode m = completed;
    long deadline = System.nanoTime() + patience.toNanos();
    while (m.path("total-time").asLong() <= 0 && System.nanoTime() < deadline) {
      QemuDriver.sleep(FIGURES_POLL_MS);
      try {
        m = query.get();
      } catch (QmpException e) {
        return m;
      }
    }
    return m;
  }

  private static final long FIGURES_POLL_MS = 5;

  /**
   * The outcome of a completed migration from QEMU's figures. Should QEMU never fill them in, the
   * total is Ferry's own measurement of the whole migration and the downtime is unknown (-1):
   * a completed migration is never recorded as having taken no time.
   */
  static MigrationOutcome completedOutcome(String vmId, JsonNode figures, long elapsedMs, boolean postCopy) {
    long transferred = figures.path("ram").path("transferred").asLong();
    long total = figures.path("total-time").asLong();
    if (total > 0) return MigrationOutcome.completed(total, figures.path("downtime").asLong(), transferred, postCopy);
    log.warn("VM {}: QEMU reported the migration completed but gave no total time; recording Ferry's own {} ms and an unknown downtime",
        vmId, elapsedMs);
    return MigrationOutcome.completed(Math.max(1, elapsedMs), -1, transferred, postCopy);
  }

  /** Polls query-migrate until the migration ends, applying the deadline. */
  static MigrationOutcome follow(QemuVm vm, MigrationParams params, ProgressTracker progress, String what) {
    try {
      return poll(vm, params, progress, what);
    } finally {
      vm.migration = null;
    }
  }

  private static MigrationOutcome poll(QemuVm vm, MigrationParams params, ProgressTracker progress, String what) {
    long start = System.nanoTime();
    long deadline = start + params.deadline().toNanos();
    boolean postCopyStarted = false;
    String cancelReason = null;
    while (true) {
      JsonNode m;
      try {
        m = vm.qmp.execute("query-migrate");
      } catch (QmpException e) {
        String reason = what + " of VM " + vm.handle.vmId() + ": lost QEMU: " + e.getMessage();
        return postCopyStarted ? MigrationOutcome.guestLost(reason) : MigrationOutcome.failed(reason);
      }
      String status = m.path("status").asText();
      JsonNode ram = m.path("ram");
      long transferred = ram.path("transferred").asLong();
      switch (status) {
        case "completed":
          progress.done(transferred);
          long elapsedMs = (System.nanoTime() - start) / 1_000_000;
          JsonNode figures = settledFigures(m, () -> vm.qmp.execute("query-migrate"), FIGURES_PATIENCE);
          return completedOutcome(vm.handle.vmId(), figures, elapsedMs, postCopyStarted);
        case "failed":
        case "postcopy-paused":
          if (postCopyStarted) {
            // The target already ran the guest on pages the source no longer has: the source's
            // memory is stale, so it stays paused and the guest is lost, never resumed.
            return MigrationOutcome.guestLost(what + " failed after switching to post-copy ("
                + m.path("error-desc").asText(status) + "); the guest's memory was split between source and target,"
                + " so it cannot run on either");
          }
          if (status.equals("postcopy-paused")) break;
          ensureRunning(vm);
          return MigrationOutcome.failed(what + " failed: " + m.path("error-desc").asText("QEMU gave no reason"));
        case "cancelled":
          ensureRunning(vm);
          return MigrationOutcome.failed(cancelReason != null ? cancelReason : what + " was cancelled");
        default:
          progress.update(transferred, ram.path("remaining").asLong());
          // dirty-pages-rate is in pages/s, mbps in 10^6 bit/s (QEMU's query-migrate)
          vm.migration = new HypervisorDriver.InFlight(vm.handle.vmId(), transferred, ram.path("remaining").asLong(),
              ram.path("dirty-pages-rate").asDouble() * ram.path("page-size").asDouble(4096), ram.path("mbps").asDouble() * 1e6 / 8);
      }
      if (cancelReason == null && vm.cancelRequested) {
        cancelReason = what + " was cancelled on request";
        vm.qmp.execute("migrate_cancel");
      } else if (cancelReason == null && System.nanoTime() > deadline && !postCopyStarted) {
        if (params.postCopy() && status.equals("active")) {
          log.info("VM {}: {} has not converged in {} s; switching to post-copy", vm.handle.vmId(), what, params.deadline().toSeconds());
          vm.qmp.execute("migrate-start-postcopy");
          postCopyStarted = true;
        } else {
          cancelReason = what + " did not converge within " + params.deadline().toMillis() + " ms ("
              + transferred / (1 << 20) + " MiB sent, " + ram.path("remaining").asLong() / (1 << 20)
              + " MiB left at " + params.maxBandwidthBytesPerSec() / (1 << 20) + " MiB/s); cancelled, the source runs on";
          vm.qmp.execute("migrate_cancel");
        }
      }
      QemuDriver.sleep(QemuDriver.POLL_MS);
    }
  }

  /** After a failed or cancelled migration the source must run on. */
  private static void ensureRunning(QemuVm vm) {
    try {
      String status = vm.qmp.execute("query-status").path("status").asText();
      if (!status.equals("running")) vm.qmp.execute("cont");
    } catch (QmpException e) {
      log.warn("VM {}: could not make sure the source runs on: {}", vm.handle.vmId(), e.getMessage());
    }
  }

}
