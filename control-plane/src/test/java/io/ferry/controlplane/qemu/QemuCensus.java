package io.ferry.controlplane.qemu;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * Counts, every 20 ms while open, the QEMU processes on this machine whose command line names a
 * VM, and remembers the most seen at once: the check that a VM never runs twice.
 */
final class QemuCensus implements AutoCloseable {
  private final String vmId;
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "qemu-census");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger most = new AtomicInteger();
  private final AtomicReference<List<String>> worst = new AtomicReference<>(List.of());
  private final AtomicInteger samples = new AtomicInteger();

  QemuCensus(String vmId) {
    this.vmId = vmId;
    sampler.scheduleAtFixedRate(this::sample, 0, 20, TimeUnit.MILLISECONDS);
  }

  /** The QEMU processes of the VM running now (their command lines). */
  static List<String> qemusOf(String vmId) {
    return ProcessHandle.allProcesses()
        .map(QemuCensus::commandLine)
        .filter(c -> c.contains("qemu-system") && c.contains(vmId))
        .collect(Collectors.toList());
  }

  /**
   * A process's whole command line from /proc (the JDK's {@code ProcessHandle.Info} truncates
   * long ones, such as a java command with its class path), or "" if it has gone.
   */
  static String commandLine(ProcessHandle process) {
    try {
      byte[] raw = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc", Long.toString(process.pid()), "cmdline"));
      return new String(raw, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (java.io.IOException e) {
      return "";
    }
  }

  private void sample() {
    List<String> now = qemusOf(vmId);
    samples.incrementAndGet();
    if (now.size() > most.get()) {
      most.set(now.size());
      worst.set(now);
    }
  }

  /** Fails if two or more QEMUs of the VM were ever seen at once. */
  void assertNeverTwice() {
    if (samples.get() < 10) throw new AssertionError("the census took only " + samples.get() + " samples");
    if (most.get() > 1) {
      throw new AssertionError(most.get() + " QEMUs of VM " + vmId + " ran at once: " + worst.get());
    }
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
