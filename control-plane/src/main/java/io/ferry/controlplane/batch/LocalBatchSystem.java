package io.ferry.controlplane.batch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Timeslots without a batch system, for the demo and for machines that have none: each job is a
 * local process started at once on its own pretend node ({@code local1}, {@code local2}, …) and
 * Ferry enforces the walltime itself: USR1 at end − lead, SIGTERM at the end, SIGKILL 10 s later.
 */
public final class LocalBatchSystem implements BatchSystem {
  private record Job(String id, Process process, String node, Instant start, Instant end, JobState[] state) {}

  private final Path logDir;
  private final Clock clock;
  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "local-batch-walltime");
    t.setDaemon(true);
    return t;
  });

  public LocalBatchSystem(Path logDir, Clock clock) {
    this.logDir = logDir;
    this.clock = clock;
  }

  @Override
  public String name() {
    return "local";
  }

  private volatile boolean closed;

  @Override
  public String submit(JobSpec spec) {
    if (closed) throw new BatchException("the local batch system is shutting down with its control member");
    String id = String.valueOf(ids.incrementAndGet());
    String node = "local" + id;
    ProcessBuilder pb = new ProcessBuilder(spec.command());
    pb.environment().putAll(spec.environment());
    pb.environment().put("FERRY_LOCAL_NODE", node);
    pb.environment().put("FERRY_LOCAL_JOB", id);
    try {
      Files.createDirectories(logDir);
      pb.redirectErrorStream(true).redirectOutput(logDir.resolve(spec.name() + ".out").toFile());
      Process process = pb.start();
      Instant start = clock.instant();
      Instant end = start.plus(spec.request().walltime());
      Job job = new Job(id, process, node, start, end, new JobState[] {JobState.RUNNING});
      jobs.put(id, job);
      long toEnd = spec.request().walltime().toMillis();
      long toWarning = Math.max(0, toEnd - spec.warningLead().toMillis());
      timers.schedule(() -> signal(job, "USR1"), toWarning, TimeUnit.MILLISECONDS);
      timers.schedule(() -> {
        if (process.isAlive()) {
          job.state()[0] = JobState.TIMEOUT;
          process.destroy();
          timers.schedule(process::destroyForcibly, 10, TimeUnit.SECONDS);
        }
      }, toEnd, TimeUnit.MILLISECONDS);
      process.onExit().thenRun(() -> {
        if (job.state()[0] == JobState.RUNNING) job.state()[0] = process.exitValue() == 0 ? JobState.COMPLETED : JobState.FAILED;
      });
      return id;
    } catch (IOException e) {
      throw new BatchException("cannot start the local job " + spec.name() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public JobStatus status(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null) return new JobStatus(jobId, JobState.UNKNOWN, null, null, null, "no local job " + jobId);
    return new JobStatus(jobId, job.state()[0], job.node(), job.start(), job.end(), "");
  }

  @Override
  public void cancel(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null || !job.process().isAlive()) return;
    job.state()[0] = JobState.CANCELLED;
    job.process().destroy();
    timers.schedule(job.process()::destroyForcibly, 10, TimeUnit.SECONDS);
  }

  @Override
  public void warn(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null) throw new BatchException("no local job " + jobId);
    signal(job, "USR1");
  }

  /** Ends every job still running (the control member is going away, and its jobs with it). */
  public void close() {
    closed = true;
    for (Job job : jobs.values()) {
      if (!job.process().isAlive()) continue;
      job.state()[0] = JobState.CANCELLED;
      job.process().descendants().forEach(ProcessHandle::destroy);
      job.process().destroy();
    }
    timers.shutdown();
  }

  private static void signal(Job job, String signal) {
    if (!job.process().isAlive()) return;
    try {
      new ProcessBuilder("kill", "-" + signal, String.valueOf(job.process().pid())).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new BatchException("cannot signal local job " + job.id() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
