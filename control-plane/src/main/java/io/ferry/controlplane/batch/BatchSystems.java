package io.ferry.controlplane.batch;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The batch backends a control member can submit timeslots to ({@code ferry.timeslots.*}), and
 * the job every timeslot runs: the node agent. Calls go to a small thread pool, since backends
 * run commands.
 */
public final class BatchSystems {
  private final Map<String, BatchSystem> backends = new LinkedHashMap<>();
  private final ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
    Thread t = new Thread(r, "batch");
    t.setDaemon(true);
    return t;
  });
  private final List<String> agentCommand;
  private final Duration warningLead;

  /** @param seed this control member as "host:port", for the agents to join */
  public BatchSystems(Config config, Clock clock, String seed) {
    this(config, clock, seed, List.of());
  }

  /** @param more backends besides the configured ones (a name already taken is an error) */
  public BatchSystems(Config config, Clock clock, String seed, List<BatchSystem> more) {
    Config c = config.getConfig("ferry.timeslots");
    Path jobs = Path.of(c.getString("job-dir"));
    backends.put("local", new LocalBatchSystem(jobs.resolve("local"), clock));
    if (c.getBoolean("slurm.enabled")) {
      String conf = c.getString("slurm.conf");
      backends.put("slurm", new SlurmBatchSystem(conf.isEmpty() ? null : Path.of(conf), jobs.resolve("slurm"),
          c.getDuration("slurm.command-timeout")));
    }
    if (c.getBoolean("gridengine.enabled")) {
      Config ge = c.getConfig("gridengine");
      backends.put("gridengine", new GridEngineBatchSystem(ge.getString("sge-root"), ge.getString("sge-cell"), Map.of(), ge.getString("queue"),
          ge.getString("parallel-environment"), ge.getString("memory-complex"), jobs.resolve("gridengine"),
          ge.getDuration("command-timeout")));
    }
    for (BatchSystem b : more) {
      if (backends.putIfAbsent(b.name(), b) != null) throw new IllegalArgumentException("two batch backends are named '" + b.name() + "'");
    }
    List<String> command = new java.util.ArrayList<>(c.getStringList("agent-command"));
    // Agents join this control plane, decide membership with its timing, and journal the VM
    // entities they host to its keyspace.
    command.addAll(List.of("--seed", seed,
        "--split-brain-stable-after", config.getDuration("ferry.control.split-brain-stable-after").toMillis() + "ms",
        "--cassandra", config.getString("ferry.cassandra.contact-points"),
        "--keyspace", config.getString("ferry.cassandra.keyspace")));
    this.agentCommand = List.copyOf(command);
    this.warningLead = c.getDuration("warning-lead");
  }

  /**
   * The backend whose timeslots nobody submits: their batch facts (job, start, end, expiry) are
   * recorded by someone else, such as an operator, a test or the scripted demo tour.
   */
  public static final String MANUAL = "manual";

  /** Whether Ferry submits and follows timeslots of this backend itself. */
  public boolean submits(String backend) {
    return !MANUAL.equals(backend);
  }

  /** The backend named {@code name}. */
  public BatchSystem get(String name) {
    BatchSystem b = backends.get(name);
    if (b == null) throw new BatchException("no batch backend '" + name + "' on this control member; configured: " + backends.keySet());
    return b;
  }

  /** Runs {@code call} against backend {@code name} on the batch thread pool. */
  public <T> CompletionStage<T> call(String name, Function<BatchSystem, T> call) {
    return CompletableFuture.supplyAsync(() -> call.apply(get(name)), pool);
  }

  /** Ends what the backends run from this member (local jobs) when the member stops. */
  public void close() {
    for (BatchSystem b : backends.values()) {
      if (b instanceof LocalBatchSystem local) local.close();
    }
    pool.shutdownNow();
  }

  /** The agent command every timeslot job runs. */
  public List<String> agentCommand() {
    return agentCommand;
  }

  /** How long before a timeslot's end it starts expiring (evacuation begins). */
  public Duration warningLead() {
    return warningLead;
  }
}
