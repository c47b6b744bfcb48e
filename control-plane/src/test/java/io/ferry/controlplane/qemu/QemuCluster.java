package io.ferry.controlplane.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.cli.UsersFile;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.agent.NodeAgent;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * A real Ferry on loopback for the end-to-end tests: one control member (real Cassandra) and node
 * agents driving real QEMU, each node with its own state folder and one shared folder.
 */
final class QemuCluster implements AutoCloseable {
  static final Duration ASK = Duration.ofSeconds(20);
  static final String KEYSPACE = io.ferry.journal.testing.TestKeyspaces.fresh("ferry_it");
  private static final ObjectMapper JSON = new ObjectMapper();

  final String run = UUID.randomUUID().toString().substring(0, 6);
  final Path root;
  /** The control member (replaced by {@link #restartControl}). */
  volatile ActorSystem<Void> control;
  final int controlPort;
  volatile Entities entities;
  private final Config controlOverrides;

  final String userToken;
  final String adminToken;
  final String apiUrl;

  QemuCluster() throws IOException {
    TestImages.dir();
    root = Files.createTempDirectory(Path.of("/tmp"), "fe");
    userToken = UsersFile.addUser(root.resolve("users.json"), "alice", false);
    adminToken = UsersFile.addUser(root.resolve("users.json"), "admin", true);
    Config overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(KEYSPACE))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.timeslots.enabled", ConfigValueFactory.fromAnyRef(false))
        .withValue("ferry.api.users-file", ConfigValueFactory.fromAnyRef(root.resolve("users.json").toString()))
        .withValue("ferry.control.agent-lookup-timeout", ConfigValueFactory.fromAnyRef("10s"))
        // terminate() without leaving the cluster is how a test crashes the control member (restartControl)
        .withValue("pekko.coordinated-shutdown.run-by-actor-system-terminate", ConfigValueFactory.fromAnyRef(false));
    controlOverrides = overrides;
    control = ControlPlane.start(ControlPlane.config(overrides.withFallback(ConfigFactory.empty())));
    controlPort = Cluster.get(control).selfMember().address().getPort().get();
    entities = new Entities(control, ASK);
    apiUrl = "http:/" + ControlPlane.api(control).toCompletableFuture().join().localAddress();
  }

  /**
   * Ends the control member, then starts a new one on the same address and keyspace. With
   * {@code crash} it ends abruptly, as after {@code kill -9} (no leaving: the others find it
   * unreachable); otherwise it leaves the cluster first, as {@code ops/control-plane.sh stop} does.
   * {@code between} runs while no control member exists.
   */
  void restartControl(boolean crash, Runnable between) {
    ActorSystem<Void> old = control;
    if (crash) old.terminate();
    else org.apache.pekko.actor.CoordinatedShutdown.get(old).run(org.apache.pekko.actor.CoordinatedShutdown.unknownReason());
    old.getWhenTerminated().toCompletableFuture().join();
    between.run();
    Config again = ControlPlane.overrides("127.0.0.1", controlPort, List.of()).withFallback(controlOverrides);
    control = ControlPlane.start(ControlPlane.config(again.withFallback(ConfigFactory.empty())));
    entities = new Entities(control, ASK);
    ControlPlane.api(control).toCompletableFuture().join();
  }

  String node(String name) {
    return name + "-" + run;
  }

  Path stateDir(String node) {
    return root.resolve(node);
  }

  Path shared() {
    return root.resolve("shared");
  }

  /** The settings of an agent for {@code node} joining this cluster. */
  Config agentConfig(String node) {
    return NodeAgent.config(ConfigFactory.empty()
        .withValue("ferry.agent.node-id", ConfigValueFactory.fromAnyRef(node))
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(KEYSPACE))
        .withValue("ferry.agent.seed-nodes", ConfigValueFactory.fromIterable(List.of("127.0.0.1:" + controlPort)))
        .withValue("ferry.agent.state-dir", ConfigValueFactory.fromAnyRef(stateDir(node).toString()))
        .withValue("ferry.agent.shared-dir", ConfigValueFactory.fromAnyRef(shared().toString()))
        .withValue("ferry.agent.qemu.images-dir", ConfigValueFactory.fromAnyRef(TestImages.dir().toString()))
        .withValue("ferry.agent.cores", ConfigValueFactory.fromAnyRef(2))
        .withValue("ferry.agent.memory-mib", ConfigValueFactory.fromAnyRef(4096)));
  }

  /** Starts an agent in this JVM and waits until its node is registered by that agent. */
  ActorSystem<Void> startAgent(String node) {
    ActorSystem<Void> agent = NodeAgent.start(agentConfig(node));
    awaitNode(node, s -> s instanceof NodeState.Joined && s.facts().agentAddress().contains(":" + agent.address().getPort().get() + "/"));
    return agent;
  }

  NodeState awaitNode(String node, Predicate<NodeState> done) {
    return await("node " + node, () -> entities.node(node, Node.GetNode::new).toCompletableFuture().join(), done);
  }

  VmState vm(String vmId) {
    return entities.vm(vmId, Vm.GetVm::new).toCompletableFuture().join();
  }

  VmState awaitVm(String vmId, Predicate<VmState> done) {
    return await("VM " + vmId, () -> vm(vmId), done);
  }

  static Predicate<VmState> runningOn(String node) {
    return s -> s instanceof VmState.Running && s.facts().placement().nodeId().equals(node);
  }

  /**
   * Another control member joining this one, with its own API (ControlPlane.api); end it with
   * {@link #leave}: two control members split by a crash would leave the Split Brain Resolver an even
   * split to decide.
   */
  ActorSystem<Void> startControl() {
    Config more = ControlPlane.overrides("127.0.0.1", 0, List.of("127.0.0.1:" + controlPort)).withFallback(controlOverrides);
    ActorSystem<Void> member = ControlPlane.start(ControlPlane.config(more.withFallback(ConfigFactory.empty())));
    ControlPlane.api(member).toCompletableFuture().join();
    return member;
  }

  /** Ends a member as ops/control-plane.sh stop does: it leaves the cluster first. */
  static void leave(ActorSystem<?> member) {
    org.apache.pekko.actor.CoordinatedShutdown.get(member).run(org.apache.pekko.actor.CoordinatedShutdown.unknownReason());
    member.getWhenTerminated().toCompletableFuture().join();
  }

  /** An Active timeslot {@code slot-<node>} of alice's on {@code node}, as the batch system would report it. */
  String activeTimeslot(String node) {
    String id = "slot-" + node;
    java.time.Instant now = java.time.Instant.now();
    entities.timeslot(id, r -> new io.ferry.controlplane.entity.Timeslot.RequestTimeslot("alice",
        new io.ferry.journal.timeslot.TimeslotRequest(2, 2048, Duration.ofHours(1), ""), "local", Cause.user("alice"), r)).toCompletableFuture().join();
    entities.timeslot(id, r -> new io.ferry.controlplane.entity.Timeslot.RecordSubmitted("1", r)).toCompletableFuture().join();
    entities.timeslot(id, r -> new io.ferry.controlplane.entity.Timeslot.Activate(node, now, now.plusSeconds(3600), r)).toCompletableFuture().join();
    return id;
  }

  /** Creates a VM and places it on {@code node}; returns once it runs and its guest counts. */
  String createRunning(String name, String node, Flavour flavour, String image) {
    String vmId = io.ferry.controlplane.api.VmIds.of("alice", name + "-" + run);
    entities.vm(vmId, r -> new Vm.CreateVm(new VmSpec("alice", flavour, image, VmMode.DYNAMIC), Cause.user("alice"), r)).toCompletableFuture().join();
    entities.vm(vmId, r -> new Vm.PlaceVm(new Placement("slot-" + node, node), Cause.user("alice"), r)).toCompletableFuture().join();
    return vmId;
  }

  /** The handle the agent of {@code node} saved for the VM. */
  VmHandle handle(String node, String vmId) {
    Path file = stateDir(node).resolve("handles").resolve(vmId + ".json");
    return await("handle of " + vmId + " on " + node, () -> {
      try {
        return Files.exists(file) ? JSON.readValue(file.toFile(), VmHandle.class) : null;
      } catch (IOException e) {
        return null;
      }
    }, h -> h != null);
  }

  static Path console(VmHandle handle) {
    return Path.of(handle.attribute("console"));
  }

  /** The guest on {@code after} went on counting from where {@code before} stopped, without a boot. */
  static void assertContinued(VmHandle before, VmHandle after) {
    TestImages.assertContinued(console(before), console(after));
  }

  List<VmEvent> journal(String vmId) {
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(control))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    return journal.currentEventsByPersistenceId("Vm|" + vmId, 0, Long.MAX_VALUE)
        .map(e -> (VmEvent) e.event()).runWith(Sink.seq(), control).toCompletableFuture().join();
  }

  <T> List<T> journal(String vmId, Class<T> type) {
    return journal(vmId).stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  <T> T await(String what, java.util.function.Supplier<T> read, Predicate<T> done) {
    TestProbe<Object> probe = TestProbe.create(control);
    Object[] last = new Object[1];
    try {
      return probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
        T value = read.get();
        last[0] = value;
        if (!done.test(value)) throw new AssertionError(what + " is not there yet: " + value);
        return value;
      });
    } catch (AssertionError e) {
      throw new AssertionError("waited 60 s for " + what + "; last seen: " + last[0], e);
    }
  }

  @Override
  public void close() {
    control.terminate();
    ProcessHandle.current().children().filter(p -> p.info().command().orElse("").contains("qemu"))
        .forEach(ProcessHandle::destroyForcibly);
    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(root.toString()))
        .forEach(ProcessHandle::destroyForcibly);
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp folder left behind is harmless
    }
  }
}
