package io.ferry.loadtests.chaos;

import io.ferry.loadtests.BenchSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The campaign's control plane: {@code count} control members, each its own JVM running
 * {@code ferry-control} on {@value ChaosNet#HOST} (cluster port 25521…, API 127.0.0.1:8091…), all
 * listing all as seeds, with the campaign's settings as system properties. They can be killed
 * ({@code kill -9}), stopped (SIGTERM: they leave), frozen and thawed (SIGSTOP/SIGCONT) and started
 * again on the same addresses.
 */
final class Members implements AutoCloseable {
  static final int CLUSTER_PORT = 25521;
  static final int API_PORT = 8091;

  private final Path dir;
  private final java.util.Map<String, String> settings;
  private final String classpath;
  private final Process[] processes;
  /** Where each member's log stood when it was last started. */
  private final long[] startedAt;

  /** @param settings the campaign's settings, as system properties (a list as key.0, key.1, …) */
  Members(Path dir, java.util.Map<String, String> settings, String classpath, int count) {
    this.dir = dir;
    this.settings = settings;
    this.classpath = classpath;
    this.processes = new Process[count];
    this.startedAt = new long[count];
  }

  int count() {
    return processes.length;
  }

  /** "host:port" of every member: the seeds of members and agents. */
  List<String> seeds() {
    List<String> s = new ArrayList<>();
    for (int i = 0; i < processes.length; i++) s.add(ChaosNet.HOST + ":" + (CLUSTER_PORT + i));
    return s;
  }

  String api(int i) {
    return "http://127.0.0.1:" + (API_PORT + i);
  }

  boolean running(int i) {
    return processes[i] != null && processes[i].isAlive();
  }

  /** Starts every member not running and waits until each is up. */
  void startAll() {
    List<Integer> started = new ArrayList<>();
    for (int i = 0; i < processes.length; i++) {
      if (!running(i)) {
        launch(i);
        started.add(i);
      }
    }
    for (int i : started) awaitUp(i);
  }

  /** Starts member {@code i} (it must not run) and waits until it is up. */
  void start(int i) {
    if (running(i)) throw new IllegalStateException("member " + i + " already runs");
    launch(i);
    awaitUp(i);
  }

  private void launch(int i) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx768m"));
    settings.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.addAll(List.of("-cp", classpath, "io.ferry.controlplane.ControlPlaneCommand",
        "--host", ChaosNet.HOST, "--port", String.valueOf(CLUSTER_PORT + i), "--api-port", String.valueOf(API_PORT + i),
        "--cassandra", ChaosNet.HOST + ":" + ChaosNet.CQL));
    seeds().forEach(s -> command.addAll(List.of("--seed", s)));
    try {
      // one log per member across its restarts (what came before a kill is the evidence); the
      // "up" line is looked for after where this start begins
      Files.writeString(log(i), "=== chaos: member " + i + " started at " + java.time.Instant.now() + "\n",
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      startedAt[i] = Files.size(log(i));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log(i).toFile()));
      // the rig's members and (through their Slurm jobs' environment) its agents log at INFO, whatever
      // the campaign's own level (ops/chaos quiets it to WARN): their logs are a failed case's evidence
      pb.environment().put("FERRY_LOG_LEVEL", System.getenv().getOrDefault("FERRY_RIG_LOG_LEVEL", "INFO"));
      processes[i] = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start control member " + i + ": " + e.getMessage(), e);
    }
  }

  /** What member {@code i} logged since its last start. */
  private String sinceStart(int i) throws IOException {
    byte[] all = Files.readAllBytes(log(i));
    int from = (int) Math.min(all.length, startedAt[i]);
    return new String(all, from, all.length - from, java.nio.charset.StandardCharsets.UTF_8);
  }

  Path log(int i) {
    return dir.resolve("member-" + i + ".log");
  }

  private void awaitUp(int i) {
    BenchSupport.await("control member " + i + " up (log: " + log(i) + ")", Duration.ofSeconds(180), () -> {
      if (!processes[i].isAlive()) throw new IllegalStateException("control member " + i + " exited (" + processes[i].exitValue() + "); see " + log(i));
      try {
        return Files.exists(log(i)) && sinceStart(i).contains("ferry-control up");
      } catch (IOException e) {
        return false;
      }
    }, up -> up);
  }

  /** {@code kill -9}: the member ends without leaving. */
  void kill(int i) {
    processes[i].destroyForcibly();
    waitFor(i);
  }

  /** SIGTERM: the member leaves the cluster and ends. */
  void stop(int i) {
    processes[i].destroy();
    waitFor(i);
  }

  void freeze(int i) {
    signal("STOP", processes[i]);
  }

  void thaw(int i) {
    signal("CONT", processes[i]);
  }

  private void waitFor(int i) {
    try {
      if (!processes[i].waitFor(60, TimeUnit.SECONDS)) {
        processes[i].destroyForcibly();
        processes[i].waitFor(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static void signal(String signal, Process p) {
    signal(signal, p.pid());
  }

  static void signal(String signal, long pid) {
    ChaosNet.sh("kill -" + signal + " " + pid);
  }

  @Override
  public void close() {
    for (int i = 0; i < processes.length; i++) {
      if (processes[i] != null && processes[i].isAlive()) {
        try {
          signal("CONT", processes[i]); // a frozen member must run to die
        } catch (IllegalStateException e) {
          // it ended meanwhile
        }
        processes[i].destroyForcibly();
        waitFor(i);
      }
    }
  }
}
