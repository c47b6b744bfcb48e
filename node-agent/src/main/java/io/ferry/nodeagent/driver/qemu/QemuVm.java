package io.ferry.nodeagent.driver.qemu;

import io.ferry.nodeagent.driver.VmExit;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.qmp.QmpClient;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A VM incarnation the QEMU driver controls: its handle, its process and its QMP connection, and
 * the watch on the process's end (QEMU's exit, with its {@code SHUTDOWN} event's reason if one came).
 */
final class QemuVm {
  final VmHandle handle;
  final ProcessHandle process;
  final QmpClient qmp;
  final CompletableFuture<VmExit> exit = new CompletableFuture<>();
  volatile boolean cancelRequested;
  /** Set before the driver itself ends the process, so that its exit is known to be deliberate. */
  volatile boolean stopping;
  /** The live migration out of this VM now in flight, or {@code null}. */
  volatile io.ferry.nodeagent.driver.HypervisorDriver.InFlight migration;
  /** The reason of QEMU's last {@code SHUTDOWN} event, if one arrived. */
  volatile String shutdownReason;

  /**
   * @param child the process as started by this driver (its exit status is known), or {@code null}
   *     for one re-attached from an earlier agent
   */
  QemuVm(VmHandle handle, ProcessHandle process, QmpClient qmp, Process child) {
    this.handle = handle;
    this.process = process;
    this.qmp = qmp;
    qmp.addEventListener(e -> {
      if (e.name().equals("SHUTDOWN")) shutdownReason = e.data().path("reason").asText("unknown");
    });
    (child != null ? child.onExit().thenApply(p -> "exited with status " + describe(p.exitValue()))
        : process.onExit().thenApply(p -> "exited (it was not started by this agent, so its status is unknown)"))
        .thenAccept(how -> exit.complete(new VmExit(stopping, "QEMU (pid " + process.pid() + ") " + how
            + (shutdownReason == null ? "" : " after a SHUTDOWN event (" + shutdownReason + ")") + ". "
            + QemuCommand.tail(Path.of(handle.attributes().getOrDefault("stderr", "/nonexistent"))))));
  }

  private static String describe(int status) {
    return status > 128 ? status + " (killed by signal " + (status - 128) + ")" : String.valueOf(status);
  }
}
