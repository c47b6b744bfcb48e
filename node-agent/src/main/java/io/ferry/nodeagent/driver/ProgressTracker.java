package io.ferry.nodeagent.driver;

/**
 * Turns a migration's raw counters into a percentage that never runs backwards: QEMU's remaining
 * bytes can grow while the guest dirties memory, but a progress bar must not.
 */
public final class ProgressTracker {
  private final MigrationListener listener;
  private int last = -1;

  public ProgressTracker(MigrationListener listener) {
    this.listener = listener;
  }

  /** Reports progress from counters; 99 at most until {@link #done} is called. */
  public synchronized void update(long transferred, long remaining) {
    long total = transferred + Math.max(remaining, 0);
    int percent = total == 0 ? 0 : (int) Math.min(99, transferred * 100 / total);
    report(Math.max(percent, Math.max(last, 0)), transferred, remaining);
  }

  public synchronized void done(long transferred) {
    report(100, transferred, 0);
  }

  public synchronized int last() {
    return last;
  }

  private void report(int percent, long transferred, long remaining) {
    if (percent == last) return;
    last = percent;
    listener.progress(percent, transferred, remaining);
  }
}
