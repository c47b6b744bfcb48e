package io.ferry.loadtests.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches one VM's QEMU processes every 20 ms while open. Two QEMUs of a VM exist legitimately
 * during a migration or a resume (the target waits with {@code -incoming}), so "ran twice" is
 * decided by what the guest does: the test guest prints a counter line every 100 ms on its serial
 * console, a file per QEMU; a QEMU runs the guest in a 100 ms window if its console grew in it.
 * Two QEMUs of the VM running the guest in 5 consecutive windows (half a second; a switch-over
 * makes at most one such window, since the guest's ticks are 100 ms apart) is a VM that ran twice.
 * Also kept: the most QEMUs of the VM at once, and whether one is alive now.
 */
final class Census implements AutoCloseable {
  private static final Pattern CONSOLE = Pattern.compile("-serial file:(\\S+)");
  private static final int WINDOW_SAMPLES = 5;
  private static final int TWICE_WINDOWS = 5;

  private final String vmId;
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "chaos-census");
    t.setDaemon(true);
    return t;
  });
  private final Map<Long, Path> consoles = new HashMap<>();
  private final Map<Long, Long> sizes = new HashMap<>();
  private final Set<Long> grewInWindow = new HashSet<>();
  private int sampleInWindow;
  private int twiceStreak;
  private volatile int mostProcesses;
  private volatile int longestTwiceMs;
  private volatile String twice;
  private volatile boolean alive;
  private volatile long samples;
  private final Map<Long, Long> lastGrowth = new HashMap<>();

  Census(String vmId) {
    this.vmId = vmId;
    sampler.scheduleAtFixedRate(this::sample, 0, 20, TimeUnit.MILLISECONDS);
  }

  /** The processes on this machine that are QEMUs of {@code vmId}, with their console files. */
  static Map<Long, Path> qemusOf(String vmId) {
    Map<Long, Path> found = new HashMap<>();
    ProcessHandle.allProcesses().forEach(p -> {
      if (!p.info().command().map(c -> c.contains("qemu-system")).orElse(false)) return;
      String cmdline = commandLine(p.pid());
      if (!cmdline.contains("/" + vmId + "/")) return;
      Matcher m = CONSOLE.matcher(cmdline);
      found.put(p.pid(), m.find() ? Path.of(m.group(1)) : null);
    });
    return found;
  }

  /** The VM's QEMUs now, for a report: pid, node folder, and whether it waits for an incoming guest. */
  static List<String> describe(String vmId) {
    List<String> out = new ArrayList<>();
    qemusOf(vmId).forEach((pid, console) -> out.add("pid " + pid + " " + (console == null ? "?" : console.getParent().getParent().getParent())
        + (commandLine(pid).contains("-incoming") ? " (started -incoming)" : "")));
    return out;
  }

  /** A process's whole command line from /proc, or "" if it has gone. */
  static String commandLine(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  private synchronized void sample() {
    try {
      Map<Long, Path> now = qemusOf(vmId);
      samples++;
      alive = !now.isEmpty();
      mostProcesses = Math.max(mostProcesses, now.size());
      consoles.keySet().retainAll(now.keySet());
      lastGrowth.keySet().retainAll(now.keySet());
      sizes.keySet().retainAll(now.keySet());
      for (var e : now.entrySet()) {
        consoles.putIfAbsent(e.getKey(), e.getValue());
        Path console = e.getValue();
        long size = console == null ? 0 : console.toFile().length();
        Long before = sizes.put(e.getKey(), size);
        if (before != null && size > before) {
          grewInWindow.add(e.getKey());
          lastGrowth.put(e.getKey(), System.nanoTime());
        }
      }
      if (++sampleInWindow < WINDOW_SAMPLES) return;
      if (grewInWindow.size() >= 2) {
        twiceStreak++;
        if (twiceStreak >= TWICE_WINDOWS && twice == null) {
          List<String> which = new ArrayList<>();
          grewInWindow.forEach(pid -> which.add("pid " + pid + " (console " + consoles.get(pid) + ")"));
          twice = "two QEMUs of " + vmId + " ran the guest at once for " + twiceStreak * 100 + " ms: " + which;
        }
        longestTwiceMs = Math.max(longestTwiceMs, twiceStreak * 100);
      } else {
        twiceStreak = 0;
      }
      grewInWindow.clear();
      sampleInWindow = 0;
    } catch (RuntimeException e) {
      // a process that ends while it is read: the next sample sees it gone
    }
  }

  /** Whether a QEMU of the VM runs now (as of the last sample). */
  boolean alive() {
    return alive;
  }

  /** The QEMU whose guest printed last (the one running the guest), or null if none is alive. */
  synchronized Long runningPid() {
    return lastGrowth.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
  }

  int mostProcesses() {
    return mostProcesses;
  }

  /** The longest time two QEMUs both ran the guest, in ms (a switch-over shows up as 100 at most). */
  int longestTwiceMs() {
    return longestTwiceMs;
  }

  /** Why the VM ran twice, or null if it never did; fails if the census could not sample. */
  String ranTwice() {
    if (samples < 10) return "the census took only " + samples + " samples";
    return twice;
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
