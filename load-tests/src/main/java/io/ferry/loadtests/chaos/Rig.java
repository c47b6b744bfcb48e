package io.ferry.loadtests.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.cli.UsersFile;
import io.ferry.loadtests.BenchSupport;
import io.ferry.loadtests.BenchSupport.Api.Answer;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Everything a fault campaign runs on, all real: Cassandra (already running, reached through
 * {@link ChaosNet}), a control plane of {@link Members} with the Slurm backend, and Slurm jobs
 * whose agents run in their node's network namespace with real QEMU. One rig serves every case of
 * a campaign; each case gets its own VM and timeslots, and leaves the rig as it found it.
 */
final class Rig implements AutoCloseable {
  static final String OWNER = "chaos";

  final Path dir;
  final String keyspace;
  final List<String> nodes;
  final ChaosNet net;
  final Members members;
  final ChaosApi api;
  final String token;
  final String adminToken;
  private final Path ferryHome;
  /** Keep the campaign's keyspace at the end (to read a failed case's journal). */
  boolean keepJournal;

  private Rig(Path dir, String keyspace, List<String> nodes, ChaosNet net, Members members, String token, String adminToken, Path ferryHome) {
    this.dir = dir;
    this.keyspace = keyspace;
    this.nodes = nodes;
    this.net = net;
    this.members = members;
    this.api = new ChaosApi(members, Duration.ofSeconds(120));
    this.token = token;
    this.adminToken = adminToken;
    this.ferryHome = ferryHome;
  }

  /**
   * Sets the rig up: the network, the config and the agent launcher, and {@code memberCount}
   * control members (started, up).
   *
   * @param ferryHome Ferry's checkout, built (control-plane/target/classes and its runtime-classpath.txt)
   * @param images    the folder of images (the tiny test guest of ops/guest.sh)
   */
  static Rig start(Path ferryHome, Path images, int memberCount, Duration warningLead) throws IOException {
    String run = Long.toString(System.currentTimeMillis(), 36);
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "fchaos-");
    String keyspace = "ferry_chaos_" + run;
    List<String> nodes = slurmNodes();
    if (nodes.size() < 2) throw new IllegalStateException("the campaign needs at least 2 Slurm nodes; sinfo lists " + nodes);
    Path target = ferryHome.resolve("control-plane").resolve("target");
    Path cpFile = target.resolve("runtime-classpath.txt");
    if (!Files.exists(cpFile)) throw new IllegalStateException(cpFile + " is missing: build Ferry first (ops/build.sh)");
    String classpath = target.resolve("classes") + ":" + Files.readString(cpFile).trim();
    String token = UsersFile.addUser(dir.resolve("users.json"), OWNER, false);
    String adminToken = UsersFile.addUser(dir.resolve("users.json"), "chaos-admin", true);
    ChaosNet net = ChaosNet.create(nodes);
    java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
    Members members = new Members(dir, settings, classpath, memberCount);
    Rig rig = new Rig(dir, keyspace, nodes, net, members, token, adminToken, ferryHome);
    try {
      Path launcher = rig.writeLauncher(classpath, images);
      settings.put("ferry.cassandra.keyspace", keyspace);
      settings.put("ferry.api.users-file", dir.resolve("users.json").toString());
      settings.put("ferry.api.default-backend", "slurm");
      settings.put("ferry.timeslots.slurm.enabled", "on");
      settings.put("ferry.timeslots.slurm.conf", System.getenv().getOrDefault("SLURM_CONF", ""));
      settings.put("ferry.timeslots.agent-command.0", launcher.toString());
      settings.put("ferry.timeslots.job-dir", dir.resolve("jobs").toString());
      settings.put("ferry.timeslots.warning-lead", warningLead.toSeconds() + "s");
      // decide faster than a site would: a case is a minute, not ten
      settings.put("ferry.control.split-brain-stable-after", "5s");
      settings.put("ferry.control.ask-timeout", "10s");
      members.startAll();
      return rig;
    } catch (RuntimeException | IOException e) {
      rig.close();
      throw e;
    }
  }

  private Path writeLauncher(String classpath, Path images) throws IOException {
    StringBuilder s = new StringBuilder("#!/bin/bash\n# a timeslot job's agent, in its node's network namespace (written by the fault campaign)\n");
    s.append("case \"$SLURMD_NODENAME\" in\n");
    for (String node : nodes) s.append("  ").append(node).append(") host=").append(net.address(node)).append(" ;;\n");
    s.append("  *) echo \"no chaos namespace for node $SLURMD_NODENAME\" >&2; exit 2 ;;\nesac\n");
    s.append("exec ip netns exec ").append(ChaosNet.namespace("")).append("\"$SLURMD_NODENAME\" ")
        .append(Path.of(System.getProperty("java.home"), "bin", "java")).append(" -Xmx512m -cp ").append(classpath)
        .append(" io.ferry.nodeagent.agent.NodeAgentCommand --host \"$host\" --state-dir ").append(dir.resolve("agents")).append("/\"$SLURMD_NODENAME\"")
        .append(" --shared-dir ").append(dir.resolve("shared")).append(" --images ").append(images)
        .append(" --cores 2 --memory-mib 2048");
    members.seeds().forEach(seed -> s.append(" --seed ").append(seed));
    s.append(" \"$@\"\n");
    Path launcher = dir.resolve("agent.sh");
    Files.writeString(launcher, s.toString());
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    return launcher;
  }

  static List<String> slurmNodes() {
    return List.of(ChaosNet.sh("sinfo -h -N -o %N").strip().split("\\s+")).stream().distinct().sorted().collect(Collectors.toList());
  }

  /** The timeslots requested since the last {@link #restore}. */
  private final java.util.Set<String> requested = new java.util.LinkedHashSet<>();

  /**
   * Requests a Slurm timeslot of 2 cores and waits until it is Active and its agent is up (Active
   * comes when the job runs; the agent joins some seconds later, and a VM placed before that
   * fails with "no agent of node … is in the cluster"); returns its view.
   */
  JsonNode activeTimeslot(Duration walltime) {
    Answer a = api.post("/v1/timeslots", token, Map.of("cores", 2, "memoryMiB", 1024, "walltime", "PT" + walltime.toSeconds() + "S"));
    if (!a.ok()) throw new IllegalStateException("cannot request a timeslot: " + a.problem());
    String id = a.body().get("id").asText();
    requested.add(id);
    JsonNode slot = BenchSupport.await("timeslot " + id + " active", Duration.ofSeconds(120), () -> timeslot(id),
        t -> t.get("stage").asText().equals("Active"));
    String node = slot.get("node").asText();
    Path out = dir.resolve("jobs").resolve("slurm").resolve("ferry-" + id + ".out");
    BenchSupport.await("the agent of " + node + " up (" + out + ")", Duration.ofSeconds(120), () -> {
      try {
        return Files.exists(out) && Files.readString(out).contains("ferry-agent of node " + node + " up");
      } catch (IOException e) {
        return false;
      }
    }, up -> up);
    return slot;
  }

  JsonNode timeslot(String id) {
    Answer a = api.get("/v1/timeslots/" + id, token);
    return a.ok() ? a.body() : null;
  }

  /** The VM's view, or null while no member can read it. */
  JsonNode vm(String id) {
    Answer a = api.tryOnce(m -> m.get("/v1/vms/" + id, token));
    return a != null && a.ok() ? a.body() : null;
  }

  /** Creates a tiny VM on the timeslot and waits until its guest counts; returns its id. */
  String runningVm(String name, String timeslot) {
    Answer a = api.post("/v1/vms", token, Map.of("id", name, "flavour", "tiny", "image", "tiny", "timeslot", timeslot));
    if (!a.ok()) throw new IllegalStateException("cannot create VM " + name + ": " + a.problem());
    String id = a.body().get("id").asText();
    BenchSupport.await("VM " + id + " running", Duration.ofSeconds(120), () -> vm(id), v -> v.get("stage").asText().equals("Running"));
    BenchSupport.await("VM " + id + "'s guest counting", Duration.ofSeconds(120), () -> count(id), c -> c != null && c.n() > 3);
    return id;
  }

  /** The guest's last counter line, from the console of its newest QEMU on any node (null before the first). */
  GuestConsole.Count count(String vmId) {
    return newestConsole(vmId).map(GuestConsole::last).orElse(null);
  }

  Optional<Path> newestConsole(String vmId) {
    List<Path> consoles = new ArrayList<>();
    for (String node : nodes) {
      Path d = dir.resolve("agents").resolve(node).resolve("q").resolve(vmId);
      if (!Files.isDirectory(d)) continue;
      try (Stream<Path> files = Files.list(d)) {
        files.filter(f -> f.toString().endsWith(".console.log")).forEach(consoles::add);
      } catch (IOException e) {
        // the folder went while it was read
      }
    }
    return consoles.stream().max(Comparator.comparingLong(f -> f.toFile().lastModified()));
  }

  /** The agent process of a node (started with that node's state folder), if it runs. */
  Optional<ProcessHandle> agent(String node) {
    String stateDir = "--state-dir " + dir.resolve("agents").resolve(node) + " ";
    return ProcessHandle.allProcesses().filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(false))
        .filter(p -> Census.commandLine(p.pid()).contains(stateDir)).findFirst();
  }

  ProcessHandle agentOrFail(String node) {
    return agent(node).orElseThrow(() -> new IllegalStateException("no agent process of node " + node));
  }

  /** kill -9 of Cassandra's process. */
  void killCassandra() {
    ProcessHandle cassandra = ProcessHandle.allProcesses().filter(p -> Census.commandLine(p.pid()).contains("CassandraDaemon")).findFirst()
        .orElseThrow(() -> new IllegalStateException("no Cassandra process found"));
    cassandra.destroyForcibly();
    BenchSupport.await("Cassandra gone", Duration.ofSeconds(30), () -> !cassandra.isAlive(), gone -> gone);
  }

  /** ops/cassandra.sh start (waits until it answers). */
  void startCassandra() {
    try {
      Process p = new ProcessBuilder(ferryHome.resolve("ops").resolve("cassandra.sh").toString(), "start")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("cassandra-restarts.log").toFile())).start();
      if (p.waitFor() != 0) throw new IllegalStateException("ops/cassandra.sh start failed; see " + dir.resolve("cassandra-restarts.log"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run ops/cassandra.sh: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  boolean cassandraRunning() {
    return ProcessHandle.allProcesses().anyMatch(p -> Census.commandLine(p.pid()).contains("CassandraDaemon"));
  }

  /**
   * Puts the rig back as a case found it: every node healed, Cassandra and every member running,
   * the case's VMs stopped, its timeslots released and its jobs cancelled, no QEMU of its VMs left.
   */
  void restore(List<String> vmIds, List<JsonNode> given) {
    net.healAll();
    if (!cassandraRunning()) startCassandra();
    for (int i = 0; i < members.count(); i++) {
      if (members.running(i)) members.thaw(i);
    }
    members.startAll();
    for (String vm : vmIds) {
      try {
        api.post("/v1/vms/" + vm + "/stop", token, Map.of());
      } catch (RuntimeException e) {
        BenchSupport.progress("cleanup: cannot stop " + vm + ": " + e.getMessage());
      }
    }
    // every timeslot the case requested, also one that never became Active (its job would hold its
    // node and starve the next cases)
    List<JsonNode> timeslots = new java.util.ArrayList<>(given);
    for (String id : requested) {
      if (timeslots.stream().noneMatch(t -> t.get("id").asText().equals(id))) {
        JsonNode now = timeslot(id);
        if (now != null) timeslots.add(now);
      }
    }
    requested.clear();
    // and every other unfinished timeslot of the rig's user: the evacuation requests a replacement
    // when it suspends a VM, and that job would hold a node into the next case
    Answer all = api.get("/v1/timeslots", token);
    if (all.ok()) {
      for (JsonNode t : all.body()) {
        boolean over = Set.of("Expired", "Released", "Cancelled", "Failed").contains(t.path("stage").asText());
        if (!over && timeslots.stream().noneMatch(k -> k.get("id").asText().equals(t.get("id").asText()))) timeslots.add(t);
      }
    } else {
      BenchSupport.progress("cleanup: cannot list the timeslots: " + all.problem());
    }
    for (JsonNode t : timeslots) {
      try {
        api.post("/v1/timeslots/" + t.get("id").asText() + "/release", token, Map.of());
      } catch (RuntimeException e) {
        BenchSupport.progress("cleanup: cannot release " + t.get("id").asText() + ": " + e.getMessage());
      }
      String job = t.path("jobId").asText("");
      if (!job.isEmpty()) quietly("scancel " + job);
    }
    for (String vm : vmIds) {
      BenchSupport.await("no QEMU of " + vm + " left", Duration.ofSeconds(60), () -> {
        Census.qemusOf(vm).keySet().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        return Census.qemusOf(vm).isEmpty();
      }, none -> none);
    }
    for (JsonNode t : timeslots) {
      String node = t.path("node").asText("");
      if (!node.isEmpty()) {
        BenchSupport.await("the agent of " + node + " ended", Duration.ofSeconds(60), () -> {
          agent(node).ifPresent(ProcessHandle::destroyForcibly);
          return agent(node).isEmpty();
        }, gone -> gone);
      }
    }
  }

  private static void quietly(String commandLine) {
    try {
      ChaosNet.sh(commandLine);
    } catch (IllegalStateException e) {
      // already gone
    }
  }

  static String shortId() {
    return UUID.randomUUID().toString().substring(0, 6);
  }

  @Override
  public void close() {
    members.close();
    ProcessHandle.allProcesses().filter(p -> Census.commandLine(p.pid()).contains(dir.toString())).forEach(ProcessHandle::destroyForcibly);
    net.close();
    if (keepJournal) {
      BenchSupport.progress("journal kept in keyspace " + keyspace + " (drop it with cqlsh: DROP KEYSPACE " + keyspace + ")");
    } else if (cassandraRunning()) {
      io.ferry.loadtests.Cql.dropKeyspaces(keyspace);
    }
  }
}
