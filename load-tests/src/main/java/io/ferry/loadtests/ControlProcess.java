package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control member of a scale run, as its own JVM ({@link io.ferry.loadtests.sim.SimControl}),
 * with its heap and CPU samples as it prints them.
 */
final class ControlProcess {
  private static final Pattern READY = Pattern.compile("ready seed=(\\S+) api=(\\S+)");
  private static final Pattern SAMPLE = Pattern.compile("sample t_ms=\\d+ heap_used=(\\d+) heap_live=(\\d+) heap_max=(-?\\d+) cpu_ns=(\\d+)");

  /** One sample: when, heap used, heap live after the last old-generation collection, CPU time. */
  private record Sample(Instant at, long heapUsed, long heapLive, long cpuNs) {}

  private final Process process;
  private final CompletableFuture<Matcher> ready = new CompletableFuture<>();
  private final List<Sample> samples = new ArrayList<>();
  private volatile JsonNode batch;
  private String heapMax = "?";

  private ControlProcess(Process process) {
    this.process = process;
  }

  static ControlProcess start(Path dir, String keyspace, ScaleScenario sc, String heap, List<String> settings) throws IOException {
    Path log = dir.resolve("control.log");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        "-cp", System.getProperty("java.class.path"), "io.ferry.loadtests.sim.SimControl",
        "--nodes", String.valueOf(sc.nodes()), "--grant-delay", sc.grantDelay().toSeconds() + "s", "--scarcity", String.valueOf(sc.scarcity()),
        "--keyspace", keyspace, "--users-file", dir.resolve("users.json").toString(), "--warning-lead", sc.warningLead().toSeconds() + "s",
        // audit verify of a big journal takes longer than the default 20 s
        "--set", "pekko.http.server.request-timeout = 600s", "--set", "pekko.http.server.idle-timeout = 900s",
        // a burst of requests on a busy 2-core machine: wait for the entities rather than answer 503
        "--set", "ferry.control.ask-timeout = 30s"));
    settings.forEach(s -> command.addAll(List.of("--set", s)));
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(log.toFile());
    pb.environment().putIfAbsent("FERRY_LOG_LEVEL", "WARN");
    ControlProcess c = new ControlProcess(pb.start());
    Thread reader = new Thread(c::read, "control-output");
    reader.setDaemon(true);
    reader.start();
    c.process.onExit().thenRun(() -> c.ready.completeExceptionally(new IllegalStateException(
        "the control member exited (" + c.process.exitValue() + ") before it was ready; see " + log)));
    try {
      c.ready.get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      c.process.destroyForcibly();
      throw new IllegalStateException("the control member did not start: " + e.getMessage() + " (log: " + log + ")", e);
    }
    return c;
  }

  private void read() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        Matcher m;
        if ((m = READY.matcher(line)).find()) ready.complete(m);
        else if ((m = SAMPLE.matcher(line)).find()) {
          synchronized (samples) {
            samples.add(new Sample(Instant.now(), Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(4))));
          }
          heapMax = m.group(3);
        } else if (line.startsWith("batch ")) batch = ApiJson.MAPPER.readTree(line.substring(6));
      }
    } catch (IOException e) {
      // the process ended
    }
  }

  String seed() {
    return ready.join().group(1);
  }

  String api() {
    return ready.join().group(2);
  }

  JsonNode batch() {
    return batch;
  }

  /** Heap and CPU between {@code from} and {@code to}: means, maxima, and the busiest 10 s. */
  Map<String, Object> figures(Instant from, Instant to) {
    List<Sample> in;
    synchronized (samples) {
      in = samples.stream().filter(s -> !s.at().isBefore(from) && !s.at().isAfter(to)).toList();
    }
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("heap_max_mib", heapMax.equals("?") ? heapMax : Long.parseLong(heapMax) >> 20);
    if (in.size() < 2) return f;
    f.put("heap_used_mean_mib", Math.round(in.stream().mapToLong(Sample::heapUsed).average().orElse(0) / (1 << 20)));
    f.put("heap_used_max_mib", in.stream().mapToLong(Sample::heapUsed).max().orElse(0) >> 20);
    long live = in.stream().mapToLong(Sample::heapLive).max().orElse(0);
    // live is what an old-generation collection left; without one during the run there is no figure
    f.put("heap_live_max_mib", live > 0 ? live >> 20 : "n/a");
    Sample first = in.get(0);
    Sample last = in.get(in.size() - 1);
    double wall = Duration.between(first.at(), last.at()).toNanos();
    f.put("cpu_mean_pct", BenchSupport.round(100.0 * (last.cpuNs() - first.cpuNs()) / wall));
    double busiest = 0;
    for (int i = 0, j = 0; i < in.size(); i++) {
      while (j < in.size() && Duration.between(in.get(i).at(), in.get(j).at()).toSeconds() < 10) j++;
      if (j < in.size()) {
        busiest = Math.max(busiest, 100.0 * (in.get(j).cpuNs() - in.get(i).cpuNs()) / Duration.between(in.get(i).at(), in.get(j).at()).toNanos());
      }
    }
    f.put("cpu_busiest_10s_pct", BenchSupport.round(busiest));
    f.put("cpu_note", "100% is one core; the machine has " + Runtime.getRuntime().availableProcessors());
    return f;
  }

  /** Ends the member (closing its input asks it to leave; killed if it has not within 30 s). */
  void stop() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (IOException | InterruptedException e) {
      process.destroyForcibly();
    }
  }
}
