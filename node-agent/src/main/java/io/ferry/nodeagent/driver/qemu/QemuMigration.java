package io.ferry.nodeagent.driver.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.nodeagent.driver.MigrationOutcome;
import io.ferry.nodeagent.driver.MigrationParams;
import io.ferry.nodeagent.driver.ProgressTracker;
import io.ferry.nodeagent.qmp.QmpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a QEMU migration (live, or to a suspend file) to its end: polls {@code query-migrate},
 * reports progress, cancels on request, and at the deadline switches to post-copy if allowed or
 * cancels, after which the source must run on.
 */
final class QemuMigration {
  private static final Logger log = LoggerFactory.getLogger(QemuMigration.class);

  private QemuMigration() {}

  /** Polls query-migrate until the migration ends, applying the deadline. */
  static MigrationOutcome follow(QemuVm vm, MigrationParams params, ProgressTracker progress, String what) {
    long start = System.nanoTime();
    long deadline = start + params.deadline().toNanos();
    boolean postCopyStarted = false;
    String cancelReason = null;
    while (true) {
      JsonNode m;
      try {
        m = vm.qmp.execute("query-migrate");
      } catch (QmpException e) {
        return MigrationOutcome.failed(what + " of VM " + vm.handle.vmId() + ": lost QEMU: " + e.getMessage());
      }
      String status = m.path("status").asText();
      JsonNode ram = m.path("ram");
      long transferred = ram.path("transferred").asLong();
      switch (status) {
        case "completed":
          progress.done(transferred);
          return MigrationOutcome.completed(m.path("total-time").asLong(), m.path("downtime").asLong(), transferred, postCopyStarted);
        case "failed":
          ensureRunning(vm);
          return MigrationOutcome.failed(what + " failed: " + m.path("error-desc").asText("QEMU gave no reason"));
        case "cancelled":
          ensureRunning(vm);
          return MigrationOutcome.failed(cancelReason != null ? cancelReason : what + " was cancelled");
        default:
          progress.update(transferred, ram.path("remaining").asLong());
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
