package io.ferry.loadtests;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.cli.UsersFile;
import io.ferry.journal.Tags;
import io.ferry.journal.audit.JournalEntry;
import io.ferry.loadtests.sim.SimHost;
import io.ferry.nodeagent.agent.NodeAgent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A simulated cluster at scale on the real control plane and the real Cassandra journal: a control
 * member in its own JVM with the {@link io.ferry.loadtests.sim.SimulatedBatchSystem}, the nodes'
 * agents (real agent code, process-less driver) on a few {@link SimHost} members in this JVM, and
 * users working through the HTTP API. Reports evacuations against deadlines (every miss with its
 * cause), decision latency, journal throughput and write latency, event-stream lag, audit replay
 * speed, and the control member's heap and CPU. Asserts nothing about time.
 */
@Command(name = "scale", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs a simulated cluster against the real control plane and Cassandra and reports how Ferry keeps up.",
        "Needs Cassandra (ops/bench starts it). Prints where the report went and a key=value summary last."})
public final class ScaleBenchmark implements Callable<Integer> {
  @Option(names = "--vms", defaultValue = "1000", description = "VMs (default: ${DEFAULT-VALUE})") int vms;
  @Option(names = "--nodes", defaultValue = "50", description = "nodes of the simulated cluster (default: ${DEFAULT-VALUE})") int nodes;
  @Option(names = "--hosts", description = "agent members the nodes are spread over (default: nodes/50, at least 2)") Integer hosts;
  @Option(names = "--users", description = "users (default: nodes/10, at least 1)") Integer users;
  @Option(names = "--slots", description = "initial timeslots, one node each (default: 60% of the nodes)") Integer slots;
  @Option(names = "--slot-cores", defaultValue = "128", description = "cores per timeslot (default: ${DEFAULT-VALUE})") int slotCores;
  @Option(names = "--slot-memory-mib", defaultValue = "262144", description = "memory per timeslot, MiB (default: ${DEFAULT-VALUE})") int slotMemory;
  @Option(names = "--waves", defaultValue = "4", description = "expiry waves of the initial timeslots (default: ${DEFAULT-VALUE})") int waves;
  @Option(names = "--wave-interval", defaultValue = "60", description = "seconds between waves (default: ${DEFAULT-VALUE})") int waveInterval;
  @Option(names = "--first-expiry", description = "walltime of the first wave, seconds (default: lead + 60 s + 120 ms per VM, the time to create them on 2 cores)") Integer firstExpiry;
  @Option(names = "--jitter", defaultValue = "5", description = "± seconds on each walltime (default: ${DEFAULT-VALUE})") int jitter;
  @Option(names = "--warning-lead", defaultValue = "60", description = "seconds of warning before a timeslot's end (default: ${DEFAULT-VALUE})") int lead;
  @Option(names = "--grant-delay", defaultValue = "5", description = "least seconds from request to start (default: ${DEFAULT-VALUE})") int grantDelay;
  @Option(names = "--scarcity", defaultValue = "0.2", description = "share of nodes held by other users (default: ${DEFAULT-VALUE})") double scarcity;
  @Option(names = "--no-replace", negatable = true, defaultValue = "true", description = "users replace expiring timeslots (default: on)") boolean replace;
  @Option(names = "--link-bandwidth", defaultValue = "1GiB", description = "modelled migration bandwidth per second (default: ${DEFAULT-VALUE})") String link;
  @Option(names = "--disk-bandwidth", defaultValue = "1GiB", description = "modelled suspend/resume bandwidth per second (default: ${DEFAULT-VALUE})") String disk;
  @Option(names = "--tail", defaultValue = "45", description = "seconds the run goes on after the last wave (default: ${DEFAULT-VALUE})") int tail;
  @Option(names = "--control-heap", defaultValue = "2g", description = "the control member's -Xmx (default: ${DEFAULT-VALUE})") String controlHeap;
  @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})") long seed;
  @Option(names = "--parallel", defaultValue = "16", description = "API requests in flight while creating VMs (default: ${DEFAULT-VALUE})") int parallel;
  @Option(names = "--keep-journal", description = "keep the run's keyspace (default: dropped at the end)") boolean keepJournal;
  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a setting (HOCON) for the control member and the agent hosts, repeatable")
  List<String> settings = new ArrayList<>();
  @Option(names = "--report", description = "the JSON report (default: $FERRY_STATE/bench/scale-<time>.json; .md and .svg beside it)") Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ScaleBenchmark()).execute(args));
  }

  ScaleScenario scenario() {
    int h = hosts != null ? hosts : Math.max(2, nodes / 50);
    int u = users != null ? users : Math.max(1, nodes / 10);
    int s = slots != null ? slots : Math.max(1, (int) Math.round(nodes * 0.6));
    int first = firstExpiry != null ? firstExpiry : lead + 60 + vms * 120 / 1000;
    return new ScaleScenario(vms, nodes, h, u, s, slotCores, slotMemory, waves, Duration.ofSeconds(waveInterval),
        Duration.ofSeconds(first), Duration.ofSeconds(jitter), Duration.ofSeconds(lead), Duration.ofSeconds(grantDelay), scarcity,
        replace, Duration.ofSeconds(tail), seed);
  }

  @Override
  public Integer call() throws Exception {
    ScaleScenario sc = scenario();
    Instant time = Instant.now();
    String run = UUID.randomUUID().toString().replace("-", "").substring(0, 6);
    String keyspace = "ferry_scale_" + run;
    Path dir = Files.createTempDirectory("ferry-scale");
    String admin = UsersFile.addUser(dir.resolve("users.json"), "bench-admin", true);
    Map<String, String> tokens = new LinkedHashMap<>();
    for (int i = 1; i <= sc.users(); i++) tokens.put(String.format("user%03d", i), UsersFile.addUser(dir.resolve("users.json"), String.format("user%03d", i), false));
    BenchSupport.progress("scenario " + sc + " keyspace " + keyspace);
    ControlProcess control = ControlProcess.start(dir, keyspace, sc, controlHeap, settings);
    List<ActorSystem<SimHost.Command>> hostSystems = new ArrayList<>();
    List<String> lines; // where the report went and the summary: printed last, after the clean-up
    Map<String, Object> result = new LinkedHashMap<>();
    try {
      for (int k = 1; k <= sc.hosts(); k++) hostSystems.add(SimHost.start(hostConfig(control.seed(), keyspace, dir, k, settings)));
      awaitUp(hostSystems.get(0), sc.hosts() + 1, Duration.ofSeconds(60));
      BenchSupport.progress("control member " + control.api() + " and " + sc.hosts() + " agent hosts are up");
      JournalProbe probe = new JournalProbe();
      probe.start(hostSystems.get(0), run, Duration.ofMillis(100));
      StreamFollower follower = new StreamFollower();
      follower.start(control.api(), admin);
      BenchSupport.Api api = new BenchSupport.Api(control.api(), Duration.ofMinutes(2));
      ScaleWorkload workload = new ScaleWorkload(sc, api, admin, tokens, BenchSupport::progress);

      Instant setup = Instant.now();
      List<ScaleWorkload.Slot> planned = workload.requestSlots();
      Set<String> slotIds = planned.stream().map(ScaleWorkload.Slot::id).collect(Collectors.toSet());
      workload.awaitStage("timeslots", "/v1/timeslots", slotIds, "Active", Duration.ofSeconds(60 + sc.grantDelay().toSeconds() * 2), 1.0);
      Instant granted = Instant.now();
      List<String> vmIds = workload.createVms(planned, run, parallel);
      double createSeconds = Duration.between(granted, Instant.now()).toMillis() / 1000.0;
      workload.awaitStage("VMs", "/v1/vms", Set.copyOf(vmIds), "Running", Duration.ofSeconds(60 + vms / 100), 0.99);
      Instant allRunning = Instant.now();
      BenchSupport.progress(vms + " VMs created in " + createSeconds + " s and running " + Duration.between(granted, allRunning).toSeconds()
          + " s after the timeslots were granted");

      Instant until = granted.plus(sc.lastExpiry()).plus(sc.tail());
      Duration replacementWalltime = Duration.between(Instant.now(), until).plusMinutes(15);
      while (Instant.now().isBefore(until)) {
        Map<String, String> stages = workload.keepPools(replacementWalltime);
        Map<String, Long> count = stages.values().stream().collect(Collectors.groupingBy(s -> s, java.util.TreeMap::new, Collectors.counting()));
        BenchSupport.progress("timeslots " + count + ", " + Duration.between(Instant.now(), until).toSeconds() + " s to go");
        BenchSupport.sleep(Duration.ofSeconds(2));
      }
      Instant runEnd = Instant.now();
      follower.stop();
      probe.stop();

      BenchSupport.progress("auditing the whole journal");
      long auditStart = System.nanoTime();
      var audit = api.get("/v1/audit/verify", admin);
      double auditSeconds = (System.nanoTime() - auditStart) / 1e9;
      if (!audit.ok()) throw new IllegalStateException("audit verify failed: " + audit.problem());
      BenchSupport.progress("reading the journal");
      // read through a system of its own: an agent host may have been downed during the run
      ActorSystem<Void> reader = ActorSystem.create(org.apache.pekko.actor.typed.javadsl.Behaviors.empty(), "journal-reader",
          ConfigFactory.load(ConfigFactory.parseString("pekko.actor.provider = local\nferry.cassandra.keyspace = " + keyspace)));
      List<JournalEntry> slotEvents;
      List<JournalEntry> vmEvents;
      List<JournalEntry> nodeEvents;
      try {
        slotEvents = read(reader, Tags.TIMESLOT);
        vmEvents = read(reader, Tags.VM);
        nodeEvents = read(reader, Tags.NODE);
      } finally {
        reader.terminate();
      }
      ScaleAnalysis analysis = new ScaleAnalysis(slotEvents, vmEvents, sc.warningLead(), runEnd);

      result.put("benchmark", "scale");
      result.put("time", time.toString());
      result.put("machine", BenchSupport.machine());
      result.put("scenario", sc.toString() + (settings.isEmpty() ? "" : " settings " + settings));
      result.put("setup", Map.of("vm_create_seconds", createSeconds, "vm_create_per_second", BenchSupport.round(vms / createSeconds),
          "timeslots_granted_seconds", Duration.between(setup, granted).toMillis() / 1000.0));
      var evacuations = analysis.evacuations();
      long inTime = evacuations.size() - analysis.misses().size();
      double pct = evacuations.isEmpty() ? 100 : 100.0 * inTime / evacuations.size();
      result.put("evacuations", Map.of("needed", evacuations.size(), "in_time", inTime, "migrated", analysis.migrated(),
          "suspended", analysis.suspended(), "missed", analysis.misses().size(), "evacuated_pct", BenchSupport.round(pct)));
      result.put("miss_causes", analysis.missCauses());
      result.put("misses", analysis.misses());
      result.put("decision_latency_ms", BenchSupport.stats(analysis.decisionLatenciesMs()));
      result.put("journal", JournalFigures.of(List.of(slotEvents, vmEvents, nodeEvents), probe.latenciesMs()));
      result.put("stream_lag_ms", BenchSupport.stats(follower.lagsMs()));
      if (follower.failure() != null) result.put("stream_failure", follower.failure());
      long auditEvents = audit.body().get("events").asLong();
      var violations = audit.body().get("violations");
      Map<String, Long> byRule = new java.util.TreeMap<>();
      List<String> firstViolations = new ArrayList<>();
      for (var v : violations) {
        byRule.merge(v.path("rule").asText(), 1L, Long::sum);
        if (firstViolations.size() < 50) firstViolations.add(v.path("rule").asText() + " " + v.path("entity").asText() + ": " + v.path("message").asText());
      }
      result.put("audit_verify", Map.of("entities", audit.body().get("entities").asInt(), "events", auditEvents,
          "seconds", BenchSupport.round(auditSeconds), "events_per_second", Math.round(auditEvents / auditSeconds),
          "violations", violations.size(), "violations_by_rule", byRule, "first_violations", firstViolations));
      result.put("control_member", control.figures(granted, runEnd));
      result.put("batch", control.batch());
      result.put("replacements_requested", workload.replacements());
      result.put("workload_problems", workload.problems());
      lines = write(result, evacuations, sc);
    } finally {
      hostSystems.forEach(ActorSystem::terminate);
      control.stop();
      if (!keepJournal) Cql.dropKeyspaces(keyspace);
    }
    lines.forEach(System.out::println);
    return 0;
  }

  private List<String> write(Map<String, Object> result, List<ScaleAnalysis.Evacuation> evacuations, ScaleScenario sc) throws Exception {
    Path json = BenchSupport.reportPath(report, "scale", Instant.parse((String) result.get("time")), "json");
    Path base = json.resolveSibling(json.getFileName().toString().replaceAll("\\.json$", ""));
    Path svg = base.resolveSibling(base.getFileName() + ".svg");
    Path md = base.resolveSibling(base.getFileName() + ".md");
    result.put("plot", svg.getFileName().toString());
    @SuppressWarnings("unchecked") var ev = (Map<String, Object>) result.get("evacuations");
    @SuppressWarnings("unchecked") var dl = (Map<String, Object>) result.get("decision_latency_ms");
    @SuppressWarnings("unchecked") var jr = (Map<String, Object>) result.get("journal");
    @SuppressWarnings("unchecked") var sl = (Map<String, Object>) result.get("stream_lag_ms");
    @SuppressWarnings("unchecked") var au = (Map<String, Object>) result.get("audit_verify");
    @SuppressWarnings("unchecked") var cm = (Map<String, Object>) result.get("control_member");
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("vms", sc.vms());
    summary.put("nodes", sc.nodes());
    summary.put("evacuations", ev.get("needed"));
    summary.put("evacuated_pct", ev.get("evacuated_pct"));
    summary.put("migrated", ev.get("migrated"));
    summary.put("suspended", ev.get("suspended"));
    summary.put("missed", ev.get("missed"));
    summary.put("decision_p50_ms", dl.get("p50"));
    summary.put("decision_p99_ms", dl.get("p99"));
    summary.put("decision_max_ms", dl.get("max"));
    summary.put("journal_eps", jr.get("sustained_events_per_second"));
    summary.put("journal_peak_eps", jr.get("peak_events_per_second"));
    summary.put("journal_write_p50_ms", jr.get("write_latency_p50_ms"));
    summary.put("journal_write_p99_ms", jr.get("write_latency_p99_ms"));
    summary.put("stream_lag_p50_ms", sl.get("p50"));
    summary.put("stream_lag_p99_ms", sl.get("p99"));
    summary.put("audit_eps", au.get("events_per_second"));
    summary.put("control_cpu_pct", cm.get("cpu_mean_pct"));
    summary.put("control_heap_max_mib", cm.get("heap_used_max_mib"));
    summary.put("control_heap_live_mib", cm.get("heap_live_max_mib"));
    result.put("summary", summary);
    BenchSupport.writeJson(json, result);
    ScaleReport.svg(svg, evacuations, "Ferry scale run: " + sc.vms() + " VMs on " + sc.nodes() + " simulated nodes, "
        + ((String) result.get("time")).replaceAll("\\.\\d+Z$", "Z"));
    ScaleReport.markdown(md, result, summary);
    return List.of("report: " + json + " (summary " + md.getFileName() + ", plot " + svg.getFileName() + ")",
        summary.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
  }

  private static com.typesafe.config.Config hostConfig(String seed, String keyspace, Path dir, int k, List<String> settings) {
    com.typesafe.config.Config given = ConfigFactory.empty();
    for (String s : settings) given = ConfigFactory.parseString(s).withFallback(given);
    return NodeAgent.config(given
        .withValue("ferry.agent.node-id", ConfigValueFactory.fromAnyRef("simhost" + k))
        .withValue("ferry.agent.seed-nodes", ConfigValueFactory.fromIterable(List.of(seed)))
        .withValue("ferry.agent.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.agent.driver", ConfigValueFactory.fromAnyRef("simulated"))
        .withValue("ferry.agent.state-dir", ConfigValueFactory.fromAnyRef(dir.resolve("hosts").resolve("h" + k).toString()))
        .withValue("ferry.agent.shared-dir", ConfigValueFactory.fromAnyRef(dir.resolve("shared").toString()))
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("pekko.cluster.jmx.multi-mbeans-in-same-jvm", ConfigValueFactory.fromAnyRef(true)));
  }

  private static void awaitUp(ActorSystem<?> system, int members, Duration timeout) {
    BenchSupport.await(members + " members up", timeout, () -> java.util.stream.StreamSupport.stream(
        Cluster.get(system).state().getMembers().spliterator(), false).filter(m -> m.status() == MemberStatus.up()).count(),
        up -> up >= members);
  }

  private static List<JournalEntry> read(ActorSystem<?> system, String tag) throws Exception {
    CassandraReadJournal journal = PersistenceQuery.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    return journal.currentEventsByTag(tag, NoOffset.getInstance())
        .map(e -> new JournalEntry(e.persistenceId(), e.sequenceNr(), Instant.ofEpochMilli(e.timestamp()), e.event()))
        .runWith(Sink.seq(), system).toCompletableFuture().get(10, TimeUnit.MINUTES);
  }


}
