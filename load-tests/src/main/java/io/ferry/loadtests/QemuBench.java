package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.cli.UsersFile;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.api.ApiJson;
import io.ferry.journal.vm.VmEvent;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * What the real-QEMU benchmarks share: a control member in this JVM whose timeslots are local
 * jobs running real agents and real QEMU (the local batch backend), a user, and the bare-QMP
 * baseline script ({@code load-tests/scripts/bare-migrate.py}).
 */
final class QemuBench implements AutoCloseable {
  final ActorSystem<Void> system;
  final BenchSupport.Api api;
  final String token;
  private final String keyspace;
  final String run = UUID.randomUUID().toString().replace("-", "").substring(0, 6);

  private QemuBench(ActorSystem<Void> system, BenchSupport.Api api, String token, String keyspace) {
    this.system = system;
    this.keyspace = keyspace;
    this.api = api;
    this.token = token;
  }

  /** Starts the control member; {@code settings} are HOCON lines over the defaults. */
  static QemuBench start(String keyspacePrefix, String... settings) throws IOException {
    // a keyspace of the run's own, dropped at close (a journal of an earlier build may not be readable)
    String keyspace = keyspacePrefix + "_" + Long.toString(System.currentTimeMillis(), 36);
    Path dir = Files.createTempDirectory("ferry-qemu-bench");
    String token = UsersFile.addUser(dir.resolve("users.json"), "bench", false);
    var overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.api.users-file", ConfigValueFactory.fromAnyRef(dir.resolve("users.json").toString()))
        .withValue("ferry.api.default-backend", ConfigValueFactory.fromAnyRef("local"))
        .withValue("ferry.timeslots.job-dir", ConfigValueFactory.fromAnyRef(dir.resolve("jobs").toString()));
    for (String s : settings) overrides = ConfigFactory.parseString(s).withFallback(overrides);
    ActorSystem<Void> system = ControlPlane.start(ControlPlane.config(overrides));
    String url = "http:/" + ControlPlane.api(system).toCompletableFuture().join().localAddress();
    return new QemuBench(system, new BenchSupport.Api(url, Duration.ofSeconds(60)), token, keyspace);
  }

  /** Requests a local timeslot and waits until it is Active; returns its id. */
  String activeTimeslot(int cores, int memoryMiB, Duration walltime) {
    var a = api.post("/v1/timeslots", token, Map.of("cores", cores, "memoryMiB", memoryMiB, "walltime", "PT" + walltime.toSeconds() + "S"));
    if (!a.ok()) throw new IllegalStateException("cannot request a timeslot: " + a.problem());
    String id = a.body().get("id").asText();
    BenchSupport.await("timeslot " + id + " active", Duration.ofSeconds(90), () -> api.get("/v1/timeslots/" + id, token).body(),
        t -> t.get("stage").asText().equals("Active"));
    return id;
  }

  /** Creates a tiny VM on {@code timeslot} and waits until its guest counts; returns its id. */
  String runningVm(String timeslot, int n) {
    String id = "b" + run + "-" + n;
    var a = api.post("/v1/vms", token, Map.of("id", id, "flavour", "tiny", "image", "tiny", "timeslot", timeslot));
    if (!a.ok()) throw new IllegalStateException("cannot create VM " + id + ": " + a.problem());
    BenchSupport.await("VM " + id + " running", Duration.ofSeconds(90), () -> vm(id), v -> v.get("stage").asText().equals("Running"));
    BenchSupport.await("VM " + id + "'s guest counting", Duration.ofSeconds(120), () -> count(id), c -> c != null);
    return id;
  }

  JsonNode vm(String id) {
    return api.get("/v1/vms/" + id, token).body();
  }

  /** The guest's last counter line, from the console of its newest QEMU (null before the first). */
  GuestConsole.Count count(String vmId) {
    Path agents = Path.of(System.getProperty("user.home"), ".ferry", "agents");
    try (Stream<Path> nodes = Files.list(agents)) {
      Path console = nodes.map(n -> n.resolve("q").resolve(vmId)).filter(Files::isDirectory).flatMap(d -> {
        try (Stream<Path> files = Files.list(d)) {
          return files.filter(f -> f.toString().endsWith(".console.log")).toList().stream();
        } catch (IOException e) {
          return Stream.empty();
        }
      }).max(Comparator.comparingLong(f -> f.toFile().lastModified())).orElse(null);
      return console == null || GuestConsole.counts(console).isEmpty() ? null : GuestConsole.last(console);
    } catch (IOException e) {
      return null;
    }
  }

  /** The VM's completed migrations as journaled (QEMU's own total time and downtime). */
  List<VmEvent.VmMigrated> migrations(String vmId) throws Exception {
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    return journal.currentEventsByPersistenceId("Vm|" + vmId, 0, Long.MAX_VALUE).map(e -> e.event())
        .filter(VmEvent.VmMigrated.class::isInstance).map(VmEvent.VmMigrated.class::cast)
        .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Runs the bare-QMP baseline {@code repeat} times; one JSON object per migration. */
  static List<JsonNode> bareMigrations(int repeat) throws IOException, InterruptedException {
    String root = System.getenv().getOrDefault("FERRY_HOME", ".");
    Process p = new ProcessBuilder("python3", Path.of(root, "load-tests", "scripts", "bare-migrate.py").toString(),
        "--repeat", String.valueOf(repeat)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<JsonNode> out = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) out.add(ApiJson.MAPPER.readTree(line));
    }
    if (p.waitFor() != 0 || out.size() != repeat) {
      throw new IllegalStateException("the bare QMP baseline failed (exit " + p.exitValue() + ", " + out.size() + " of " + repeat + " migrations)");
    }
    return out;
  }

  static List<Double> field(List<JsonNode> rows, String name) {
    return rows.stream().map(r -> r.get(name).asDouble()).toList();
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.err.println("the control member did not stop cleanly: " + e);
    }
    Cql.dropKeyspaces(keyspace);
  }
}
