package io.ferry.loadtests.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a VM's stage through the API every 250 ms (when some member answers) and, with the
 * {@link Census}, measures the longest stretch the VM was recorded Running while none of its
 * QEMUs ran. Also keeps the stages seen, in order, with the second each was first seen.
 */
final class StageMonitor implements AutoCloseable {
  private final Rig rig;
  private final String vm;
  private final Census census;
  private final Thread thread;
  private final long start = System.nanoTime();
  private final List<String> stages = new ArrayList<>();
  private volatile boolean running = true;
  private long streakStart = -1;
  private volatile long longest;

  StageMonitor(Rig rig, String vm, Census census) {
    this.rig = rig;
    this.vm = vm;
    this.census = census;
    thread = new Thread(this::watch, "chaos-stage-monitor");
    thread.setDaemon(true);
    thread.start();
  }

  private void watch() {
    String last = null;
    while (running) {
      JsonNode v;
      try {
        v = rig.vm(vm);
      } catch (RuntimeException e) {
        v = null;
      }
      if (v != null) {
        String stage = v.get("stage").asText();
        long now = System.nanoTime();
        if (!stage.equals(last)) {
          synchronized (stages) {
            stages.add(stage + "@" + (now - start) / 1_000_000_000L + "s");
          }
          last = stage;
        }
        if (stage.equals("Running") && !census.alive()) {
          if (streakStart < 0) streakStart = now;
          longest = Math.max(longest, (now - streakStart) / 1_000_000);
        } else {
          streakStart = -1;
        }
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  long longestRunningWithoutQemuMs() {
    return longest;
  }

  List<String> stages() {
    synchronized (stages) {
      return List.copyOf(stages);
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
