package io.ferry.controlplane.batch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Timeslots without a batch system, for the demo and for machines that have none: each job is a
 * local process started at once on its own pretend node ({@code local1}, {@code local2}, …) and
 * Ferry enforces the walltime itself: USR1 at end − lead, SIGTERM at the end, SIGKILL 10 s later.
 */
public final class LocalBatchSystem implements BatchSystem {
  /** A local job; its end moves, and its warning and end timers with it. */
  private static final class Job {
    final String id;
    final Process process;
    final String node;
    final Instant start;
    final Duration lead;
    volatile Instant end;
    volatile JobState state = JobState.RUNNING;
    ScheduledFuture<?> warning;
    ScheduledFuture<?> timeout;

    Job(String id, Process process, String node, Instant start, Duration lead) {
      this.id = id;
      this.process = process;
      this.node = node;
      this.start = start;
      this.lead = lead;
    }
  }

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
    if (!spec.request().partition().isEmpty()) {
      throw new BatchException("the local batch system has no partitions (the request names '" + spec.request().partition()
          + "'); leave it empty, or send the request to a batch system that has it");
    }
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
      Job job = new Job(id, process, node, clock.instant(), spec.warningLead());
      jobs.put(id, job);
      schedule(job, spec.request().walltime());
      process.onExit().thenRun(() -> {
        if (job.state == JobState.RUNNING) job.state = process.exitValue() == 0 ? JobState.COMPLETED : JobState.FAILED;
      });
      return id;
    } catch (IOException e) {
      throw new BatchException("cannot start the local job " + spec.name() + ": " + e.getMessage(), e);
    }
  }

  /** (Re)sets the job's warning (USR1 at end − lead) and end (SIGTERM, SIGKILL 10 s later) for {@code walltime}. */
  private synchronized void schedule(Job job, Duration walltime) {
    if (job.warning != null) job.warning.cancel(false);
    if (job.timeout != null) job.timeout.cancel(false);
    job.end = job.start.plus(walltime);
    long toEnd = Math.max(0, Duration.between(clock.instant(), job.end).toMillis());
    long toWarning = Math.max(0, toEnd - job.lead.toMillis());
    job.warning = timers.schedule(() -> signal(job, "USR1"), toWarning, TimeUnit.MILLISECONDS);
    job.timeout = timers.schedule(() -> {
      if (job.process.isAlive()) {
        job.state = JobState.TIMEOUT;
        job.process.destroy();
        timers.schedule(job.process::destroyForcibly, 10, TimeUnit.SECONDS);
      }
    }, toEnd, TimeUnit.MILLISECONDS);
  }

  @Override
  public Map<String, JobStatus> statuses(Collection<String> jobIds) {
    if (closed) throw new BatchException("the local batch system has shut down with its control member: its jobs can no longer be read");
    Map<String, JobStatus> result = new LinkedHashMap<>();
    for (String jobId : jobIds) {
      Job job = jobs.get(jobId);
      result.put(jobId, job == null ? new JobStatus(jobId, JobState.UNKNOWN, null, null, null, "no local job " + jobId)
          : new JobStatus(jobId, job.state, job.node, job.start, job.end, ""));
    }
    return result;
  }

  @Override
  public void cancel(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null || !job.process.isAlive()) return;
    job.state = JobState.CANCELLED;
    job.process.destroy();
    timers.schedule(job.process::destroyForcibly, 10, TimeUnit.SECONDS);
  }

  @Override
  public void moveEnd(String jobId, Duration walltime) {
    Job job = jobs.get(jobId);
    if (job == null) throw new BatchException("no local job " + jobId);
    if (job.state.ended()) throw new BatchException("local job " + jobId + " has ended (" + job.state + "): its end cannot move");
    schedule(job, walltime);
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
      if (!job.process.isAlive()) continue;
      job.state = JobState.CANCELLED;
      job.process.descendants().forEach(ProcessHandle::destroy);
      job.process.destroy();
    }
    timers.shutdown();
  }

  private static void signal(Job job, String signal) {
    if (!job.process.isAlive()) return;
    try {
      new ProcessBuilder("kill", "-" + signal, String.valueOf(job.process.pid())).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new BatchException("cannot signal local job " + job.id + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
