package io.ferry.loadtests.sim;

import io.ferry.controlplane.batch.BatchException;
import io.ferry.controlplane.batch.BatchSystem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A fake batch system for load tests (backend name {@code sim}): a cluster of {@code nodes} whole
 * nodes, of which a share ({@code scarcity}) is held by other users' jobs for the whole run. A job
 * waits at least {@code grantDelay} after its submission, then starts on the first free node
 * (first come, first served) and runs for its walltime; its agent runs on a {@link SimHost} member.
 * The early warning comes {@code warningLead} before the end, as Slurm's {@code --signal} does; at
 * the end the node's VMs die with the job. Timings are real time.
 */
public final class SimulatedBatchSystem implements BatchSystem {
  /**
   * @param nodes      nodes in the simulated cluster
   * @param grantDelay the least time from submission to start
   * @param scarcity   the share of nodes other users' jobs hold (0 = all are Ferry's to get)
   */
  public record Settings(int nodes, Duration grantDelay, double scarcity) {
    public Settings {
      if (nodes < 1) throw new IllegalArgumentException("a simulated cluster needs at least one node, not " + nodes);
      if (scarcity < 0 || scarcity >= 1) throw new IllegalArgumentException("scarcity is a share in [0, 1), not " + scarcity);
    }

    int heldByOthers() {
      return (int) Math.round(nodes * scarcity);
    }
  }

  private static final class Job {
    final String id;
    final JobSpec spec;
    final String timeslotId;
    final Instant submitted;
    JobState state = JobState.PENDING;
    String node;
    Instant start;
    Instant end;
    String reason = "waiting for a free node";
    ActorRef<SimHost.Command> host;

    Job(String id, JobSpec spec, Instant submitted) {
      this.id = id;
      this.spec = spec;
      this.timeslotId = spec.environment().getOrDefault("FERRY_TIMESLOT", "");
      this.submitted = submitted;
    }
  }

  private final Settings settings;
  private final Clock clock;
  private final Map<String, Job> jobs = new HashMap<>();
  private final Deque<Job> pending = new ArrayDeque<>();
  /** node → the job on it; nodes held by others map to null and are never offered. */
  private final Map<String, Job> busy = new HashMap<>();
  private final List<String> free = new ArrayList<>();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sim-batch");
    t.setDaemon(true);
    return t;
  });
  private volatile List<ActorRef<SimHost.Command>> hosts = List.of();
  private ActorSystem<?> system;
  private int nextId;

  public SimulatedBatchSystem(Settings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    for (int i = 1; i <= settings.nodes(); i++) {
      String node = String.format("sim%04d", i);
      if (i <= settings.heldByOthers()) busy.put(node, null);
      else free.add(node);
    }
  }

  /** Starts granting jobs, to agent hosts found in {@code system}'s cluster. */
  public void attach(ActorSystem<?> system) {
    this.system = system;
    timers.scheduleWithFixedDelay(this::findHosts, 0, 1, TimeUnit.SECONDS);
    timers.scheduleWithFixedDelay(this::grant, 100, 100, TimeUnit.MILLISECONDS);
  }

  private void findHosts() {
    AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(), r -> Receptionist.find(SimHost.KEY, r),
            Duration.ofSeconds(3), system.scheduler())
        .thenAccept(l -> hosts = l.getServiceInstances(SimHost.KEY).stream()
            .sorted(Comparator.comparing(h -> h.path().toString())).toList());
  }

  @Override
  public String name() {
    return "sim";
  }

  @Override
  public synchronized String submit(JobSpec spec) {
    if (system == null) throw new BatchException("the simulated batch system is not attached to a control member yet");
    Job job = new Job(String.valueOf(++nextId), spec, clock.instant());
    jobs.put(job.id, job);
    pending.add(job);
    return job.id;
  }

  private synchronized void grant() {
    List<ActorRef<SimHost.Command>> known = hosts;
    Instant now = clock.instant();
    while (!pending.isEmpty() && !free.isEmpty() && !known.isEmpty()) {
      Job job = pending.peek();
      if (job.submitted.plus(settings.grantDelay()).isAfter(now)) break;
      pending.poll();
      job.node = free.remove(0);
      busy.put(job.node, job);
      job.state = JobState.RUNNING;
      job.start = now;
      job.end = now.plus(job.spec.request().walltime());
      job.reason = "";
      ActorRef<SimHost.Command> host = known.get(Math.floorMod(job.node.hashCode(), known.size()));
      job.host = host;
      host.tell(new SimHost.StartNode(job.node, job.timeslotId, job.id, job.spec.request().cores(), job.spec.request().memoryMiB()));
      long toEnd = job.spec.request().walltime().toMillis();
      timers.schedule(() -> host.tell(new SimHost.WarnNode(job.node, job.id)),
          Math.max(0, toEnd - job.spec.warningLead().toMillis()), TimeUnit.MILLISECONDS);
      timers.schedule(() -> finish(job, JobState.TIMEOUT), toEnd, TimeUnit.MILLISECONDS);
    }
    if (known.isEmpty()) pending.forEach(j -> j.reason = "no simulated agent host has joined the cluster");
  }

  private synchronized void finish(Job job, JobState how) {
    if (job.state != JobState.RUNNING) return;
    job.state = how;
    job.host.tell(new SimHost.EndNode(job.node, job.id));
    busy.remove(job.node);
    free.add(job.node);
  }

  @Override
  public synchronized Map<String, JobStatus> statuses(java.util.Collection<String> jobIds) {
    Map<String, JobStatus> result = new java.util.LinkedHashMap<>();
    for (String jobId : jobIds) {
      Job job = jobs.get(jobId);
      result.put(jobId, job == null ? new JobStatus(jobId, JobState.UNKNOWN, null, null, null, "no simulated job " + jobId)
          : new JobStatus(jobId, job.state, job.node, job.start, job.end, job.reason));
    }
    return result;
  }

  @Override
  public void moveEnd(String jobId, Duration walltime) {
    throw new BatchException("the simulated batch system does not move a job's end (job " + jobId + ")");
  }

  @Override
  public synchronized void cancel(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null) return;
    if (job.state == JobState.PENDING) {
      pending.remove(job);
      job.state = JobState.CANCELLED;
    } else if (job.state == JobState.RUNNING) {
      finish(job, JobState.CANCELLED);
    }
  }

  @Override
  public synchronized void warn(String jobId) {
    Job job = jobs.get(jobId);
    if (job == null || job.state != JobState.RUNNING) throw new BatchException("no running simulated job " + jobId);
    job.host.tell(new SimHost.WarnNode(job.node, job.id));
  }

  /** Jobs granted so far, and how long they waited on average (ms). */
  public synchronized Map<String, Object> summary() {
    long granted = jobs.values().stream().filter(j -> j.start != null).count();
    double waited = jobs.values().stream().filter(j -> j.start != null)
        .mapToLong(j -> Duration.between(j.submitted, j.start).toMillis()).average().orElse(0);
    return Map.of("jobs", jobs.size(), "granted", granted, "pending", pending.size(), "mean_wait_ms", Math.round(waited),
        "nodes", settings.nodes(), "held_by_others", settings.heldByOthers());
  }
}
