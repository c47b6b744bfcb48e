package io.ferry.nodeagent.driver;

/** Receives a migration's progress; called from the driver's thread, so it must be quick. */
@FunctionalInterface
public interface MigrationListener {
  /**
   * @param percent never lower than the previous call's, 100 only once the switch-over is done
   * @param transferredBytes bytes sent so far
   * @param remainingBytes QEMU's estimate of what is left (may grow while the guest dirties memory)
   */
  void progress(int percent, long transferredBytes, long remainingBytes);

  MigrationListener NONE = (p, t, r) -> {};
}
