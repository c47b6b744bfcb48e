package io.ferry.controlplane.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A control member whose timeslots are real batch jobs (local or Slurm) that each run a real
 * agent process with real QEMU, on a keyspace of its own (the keeper acts on every timeslot it
 * finds, and other tests leave theirs behind).
 */
final class BatchCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  final String run = UUID.randomUUID().toString().substring(0, 6);
  final String backend;
  final int slotMemoryMiB;
  final Path root;
  final ActorSystem<Void> control;
  final Entities entities;

  /**
   * @param nodeVariable the job's environment variable naming its node ($FERRY_LOCAL_NODE, $SLURMD_NODENAME)
   * @param extra        settings of the backend (for example Slurm's conf)
   */
  BatchCluster(String backend, String nodeVariable, int slotMemoryMiB, Config extra) throws IOException {
    this.backend = backend;
    this.slotMemoryMiB = slotMemoryMiB;
    root = Files.createTempDirectory(Path.of("/tmp"), "fb");
    // as bin/ferry-agent: the control plane's class path, so the agent member hosts its VMs' entities
    Path module = Path.of("target").toAbsolutePath();
    String classpath = module.resolve("classes") + ":" + Files.readString(module.resolve("runtime-classpath.txt")).trim();
    Path launcher = root.resolve("agent.sh");
    Files.writeString(launcher, "#!/bin/bash\nexec " + Path.of(System.getProperty("java.home"), "bin", "java") + " -cp " + classpath
        + " io.ferry.nodeagent.agent.NodeAgentCommand --state-dir " + root + "/$" + nodeVariable + " --shared-dir " + root.resolve("shared")
        + " --images " + TestImages.dir() + " --cores 2 --memory-mib 2048 \"$@\"\n");
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    Config overrides = extra.withFallback(ControlPlane.overrides("127.0.0.1", 0, List.of()))
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef("ferry_" + backend + "_" + run))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.timeslots.agent-command", ConfigValueFactory.fromIterable(List.of(launcher.toString())))
        .withValue("ferry.timeslots.job-dir", ConfigValueFactory.fromAnyRef(root.resolve("jobs").toString()))
        .withValue("ferry.timeslots.warning-lead", ConfigValueFactory.fromAnyRef("20s"))
        .withValue("ferry.timeslots.tick", ConfigValueFactory.fromAnyRef("500ms"));
    control = ControlPlane.start(ControlPlane.config(overrides.withFallback(ConfigFactory.empty())));
    ControlPlane.api(control).toCompletableFuture().join(); // the guardian has started sharding
    entities = new Entities(control, Duration.ofSeconds(20));
  }

  <T> T await(String what, Duration within, Supplier<T> read, Predicate<T> done) {
    TestProbe<Object> probe = TestProbe.create(control);
    return probe.awaitAssert(within, Duration.ofMillis(300), () -> {
      T v = read.get();
      if (!done.test(v)) throw new AssertionError(what + ": not yet, " + v);
      return v;
    });
  }

  String requestTimeslot(String owner, Duration walltime) {
    String id = "ts-" + UUID.randomUUID().toString().substring(0, 8);
    entities.timeslot(id, r -> new Timeslot.RequestTimeslot(owner, new TimeslotRequest(2, slotMemoryMiB, walltime, ""), backend,
        Cause.user(owner), r)).toCompletableFuture().join();
    return id;
  }

  TimeslotState timeslot(String id) {
    return entities.timeslot(id, Timeslot.GetTimeslot::new).toCompletableFuture().join();
  }

  TimeslotState active(String id) {
    return await("timeslot " + id + " active", Duration.ofSeconds(60), () -> timeslot(id), s -> s instanceof TimeslotState.Active);
  }

  VmState vm(String id) {
    return entities.vm(id, Vm.GetVm::new).toCompletableFuture().join();
  }

  VmHandle handle(String node, String vmId) {
    Path file = root.resolve(node).resolve("handles").resolve(vmId + ".json");
    return await("handle of " + vmId + " on " + node, Duration.ofSeconds(30), () -> {
      try {
        return Files.exists(file) ? JSON.readValue(file.toFile(), VmHandle.class) : null;
      } catch (IOException e) {
        return null;
      }
    }, h -> h != null);
  }

  /** Creates a dynamic tiny VM on the timeslot and waits until it runs. */
  String startVm(String owner, TimeslotState slot) {
    return startVm(owner, slot, VmMode.DYNAMIC);
  }

  /** Creates a tiny VM of {@code mode} on the timeslot and waits until it runs. */
  String startVm(String owner, TimeslotState slot, VmMode mode) {
    String vmId = io.ferry.controlplane.api.VmIds.of(owner, (mode == VmMode.STATIC ? "static-" : "ferried-") + UUID.randomUUID().toString().substring(0, 6));
    entities.vm(vmId, r -> new Vm.CreateVm(new VmSpec(owner, Flavour.TINY, "tiny", mode), Cause.user(owner), r)).toCompletableFuture().join();
    String slotId = slot.facts().timeslotId();
    entities.timeslot(slotId, r -> new Timeslot.ReserveCapacity(new Reservation(vmId, 1, 128), r)).toCompletableFuture().join();
    entities.vm(vmId, r -> new Vm.PlaceVm(new Placement(slotId, slot.facts().nodeId()), Cause.user(owner), r)).toCompletableFuture().join();
    await("VM " + vmId + " running", Duration.ofSeconds(60), () -> vm(vmId), s -> s instanceof VmState.Running);
    return vmId;
  }

  /** A VM started by a test, with the handle of its QEMU. */
  record Guest(String vmId, VmHandle handle) {
    java.nio.file.Path console() {
      return QemuCluster.console(handle);
    }
  }

  /** Starts a dynamic tiny VM on the timeslot and waits until its guest counts. */
  Guest bootGuest(String owner, TimeslotState slot) {
    String vmId = startVm(owner, slot);
    Guest guest = new Guest(vmId, handle(slot.facts().nodeId(), vmId));
    TestImages.awaitCounting(guest.console(), 2);
    return guest;
  }

  /** Stops a VM (the end of a test). */
  void stopVm(String owner, String vmId) {
    entities.vm(vmId, r -> new Vm.StopVm(Cause.user(owner), r)).toCompletableFuture().join();
  }

  /** The ids of {@code owner}'s Active timeslots, read from the journal's persistence ids and the entities. */
  java.util.Set<String> activeTimeslotsOf(String owner) {
    List<String> ids = PersistenceQueryHelper.readJournal(control).currentPersistenceIds().filter(id -> id.startsWith("Timeslot|"))
        .runWith(org.apache.pekko.stream.javadsl.Sink.seq(), control).toCompletableFuture().join();
    java.util.Set<String> active = new java.util.HashSet<>();
    for (String pid : ids) {
      TimeslotState s = timeslot(pid.substring("Timeslot|".length()));
      if (s instanceof TimeslotState.Active && owner.equals(s.facts().owner())) active.add(s.facts().timeslotId());
    }
    return active;
  }

  /** The agent process of a node (the java process started with that node's state folder). */
  ProcessHandle agentProcess(String node) {
    String stateDir = "--state-dir " + root.resolve(node) + " ";
    return ProcessHandle.allProcesses().filter(p -> QemuCensus.commandLine(p).contains(stateDir)).findFirst()
        .orElseThrow(() -> new AssertionError("no agent process of node " + node + " (" + stateDir + ")"));
  }

  /** Runs a command (with the test's environment, so SLURM_CONF) and fails if it fails. */
  static void run(String... command) {
    try {
      Process p = new ProcessBuilder(command).inheritIO().start();
      if (p.waitFor() != 0) throw new AssertionError(String.join(" ", command) + " exited with " + p.exitValue());
    } catch (java.io.IOException e) {
      throw new AssertionError("cannot run " + command[0] + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Sends a signal (STOP, CONT, …) to a process, as kill(1) does. */
  static void signal(String signal, ProcessHandle process) {
    run("kill", "-" + signal, Long.toString(process.pid()));
  }

  @Override
  public void close() {
    control.terminate();
    control.getWhenTerminated().toCompletableFuture().join(); // its local jobs end with it
    ProcessHandle.allProcesses().filter(p -> QemuCensus.commandLine(p).contains(root.toString()))
        .forEach(ProcessHandle::destroyForcibly);
  }

  /**
   * A job ended under its VM without any warning ({@code kill} ends the job of the timeslot it is
   * given): the timeslot ends, the journal records the VM lost with its job, and the VM cold-boots
   * from its disk on another of the owner's timeslots, never running twice meanwhile.
   */
  void assertAKilledJobLosesItsVmWhichRestartsElsewhere(String owner, java.util.function.Consumer<TimeslotState> kill) {
    TimeslotState a = active(requestTimeslot(owner, Duration.ofMinutes(5)));
    active(requestTimeslot(owner, Duration.ofMinutes(5)));
    String vmId = bootGuest(owner, a).vmId();
    try (QemuCensus census = new QemuCensus(vmId)) {
      kill.accept(a);
      await("timeslot " + a.facts().timeslotId() + " ended", Duration.ofSeconds(60), () -> timeslot(a.facts().timeslotId()),
          s -> s instanceof TimeslotState.Expired);
      // restarted on the owner's active timeslot with the most time left: the second, or one the evacuation requested meanwhile
      VmState restarted = await("VM " + vmId + " restarted on another timeslot", Duration.ofSeconds(90),
          () -> vm(vmId), s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(a.facts().timeslotId()));
      Path console = QemuCluster.console(handle(restarted.facts().placement().nodeId(), vmId));
      TestImages.awaitCounting(console, 2);
      org.junit.jupiter.api.Assertions.assertTrue(io.ferry.nodeagent.driver.qemu.GuestConsole.booted(console), "cold-booted from its disk");
      census.assertNeverTwice();
    }
    org.junit.jupiter.api.Assertions.assertTrue(PersistenceQueryHelper.events(control, vmId).stream()
        .anyMatch(io.ferry.journal.vm.VmEvent.VmLost.class::isInstance), "the journal records the VM as lost with its job");
    stopVm(owner, vmId);
  }
}
