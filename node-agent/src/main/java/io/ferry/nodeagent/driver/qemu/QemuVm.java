package io.ferry.nodeagent.driver.qemu;

import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.qmp.QmpClient;

/** A VM incarnation the QEMU driver controls: its handle, its process and its QMP connection. */
final class QemuVm {
  final VmHandle handle;
  final ProcessHandle process;
  final QmpClient qmp;
  volatile boolean cancelRequested;

  QemuVm(VmHandle handle, ProcessHandle process, QmpClient qmp) {
    this.handle = handle;
    this.process = process;
    this.qmp = qmp;
  }
}
