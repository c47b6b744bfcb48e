package io.ferry.controlplane.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Timeslots on the local batch backend, each a real agent process running real QEMU: when a
 * timeslot expires, the built-in evacuation ferries its VM live to another timeslot, or, with no
 * timeslot free, suspends it, requests a new one and resumes it there; the guest continues.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FerryLocalIT {
  static final ObjectMapper JSON = new ObjectMapper();
  final String run = UUID.randomUUID().toString().substring(0, 6);
  Path root;
  ActorSystem<Void> control;
  Entities entities;

  @BeforeAll
  void start() throws IOException {
    root = Files.createTempDirectory(Path.of("/tmp"), "fl");
    Path agentModule = Path.of("..", "node-agent", "target").toAbsolutePath().normalize();
    String classpath = agentModule.resolve("classes") + ":" + Files.readString(agentModule.resolve("runtime-classpath.txt")).trim();
    Path launcher = root.resolve("agent.sh");
    Files.writeString(launcher, "#!/bin/bash\nexec " + Path.of(System.getProperty("java.home"), "bin", "java") + " -cp " + classpath
        + " io.ferry.nodeagent.agent.NodeAgentCommand --state-dir " + root + "/$FERRY_LOCAL_NODE --shared-dir " + root.resolve("shared")
        + " --images " + TestImages.dir() + " --cores 2 --memory-mib 2048 \"$@\"\n");
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    Config overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        // A keyspace of its own: the keeper acts on every timeslot it finds, and other tests leave theirs behind.
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef("ferry_fl_" + run))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.timeslots.agent-command", ConfigValueFactory.fromIterable(List.of(launcher.toString())))
        .withValue("ferry.timeslots.job-dir", ConfigValueFactory.fromAnyRef(root.resolve("jobs").toString()))
        .withValue("ferry.timeslots.warning-lead", ConfigValueFactory.fromAnyRef("20s"))
        .withValue("ferry.timeslots.tick", ConfigValueFactory.fromAnyRef("500ms"));
    control = ControlPlane.start(ControlPlane.config(overrides.withFallback(ConfigFactory.empty())));
    ControlPlane.api(control).toCompletableFuture().join(); // the guardian has started sharding
    entities = new Entities(control, Duration.ofSeconds(20));
  }

  @AfterAll
  void stop() {
    if (control != null) {
      control.terminate();
      control.getWhenTerminated().toCompletableFuture().join(); // its local jobs end with it
    }
    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(root.toString()))
        .forEach(ProcessHandle::destroyForcibly);
  }

  private <T> T await(String what, Duration within, Supplier<T> read, Predicate<T> done) {
    TestProbe<Object> probe = TestProbe.create(control);
    return probe.awaitAssert(within, Duration.ofMillis(300), () -> {
      T v = read.get();
      if (!done.test(v)) throw new AssertionError(what + ": not yet, " + v);
      return v;
    });
  }

  private String requestTimeslot(String owner, Duration walltime) {
    String id = "ts-" + UUID.randomUUID().toString().substring(0, 8);
    entities.timeslot(id, r -> new Timeslot.RequestTimeslot(owner, new TimeslotRequest(2, 2048, walltime, ""), "local",
        Cause.user(owner), r)).toCompletableFuture().join();
    return id;
  }

  private TimeslotState active(String id) {
    return await("timeslot " + id + " active", Duration.ofSeconds(60),
        () -> entities.timeslot(id, Timeslot.GetTimeslot::new).toCompletableFuture().join(), s -> s instanceof TimeslotState.Active);
  }

  private VmState vm(String id) {
    return entities.vm(id, Vm.GetVm::new).toCompletableFuture().join();
  }

  private VmHandle handle(String node, String vmId) {
    Path file = root.resolve(node).resolve("handles").resolve(vmId + ".json");
    return await("handle of " + vmId + " on " + node, Duration.ofSeconds(30), () -> {
      try {
        return Files.exists(file) ? JSON.readValue(file.toFile(), VmHandle.class) : null;
      } catch (IOException e) {
        return null;
      }
    }, h -> h != null);
  }

  private String startVm(String owner, TimeslotState slot) {
    String vmId = "ferried-" + UUID.randomUUID().toString().substring(0, 6);
    entities.vm(vmId, r -> new Vm.CreateVm(new VmSpec(owner, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(owner), r)).toCompletableFuture().join();
    String slotId = slot.facts().timeslotId();
    entities.timeslot(slotId, r -> new Timeslot.ReserveCapacity(new Reservation(vmId, 1, 128), r)).toCompletableFuture().join();
    entities.vm(vmId, r -> new Vm.PlaceVm(new Placement(slotId, slot.facts().nodeId()), Cause.user(owner), r)).toCompletableFuture().join();
    await("VM " + vmId + " running", Duration.ofSeconds(60), () -> vm(vmId), s -> s instanceof VmState.Running);
    return vmId;
  }

  @Test
  void aVmIsFerriedLiveWhenItsTimeslotExpiresAndSuspendedThenResumedWhenNoneIsFree() {
    String owner = "ferry" + run;
    TimeslotState first = active(requestTimeslot(owner, Duration.ofSeconds(45)));
    TimeslotState second = active(requestTimeslot(owner, Duration.ofSeconds(100)));
    String vmId = startVm(owner, first);
    VmHandle onFirst = handle(first.facts().nodeId(), vmId);
    TestImages.awaitCounting(QemuCluster.console(onFirst), 3);

    // the first timeslot expires: the VM moves live to the second
    VmState moved = await("VM " + vmId + " on " + second.facts().timeslotId(), Duration.ofSeconds(60), () -> vm(vmId),
        s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(second.facts().timeslotId()));
    TestImages.assertContinued(QemuCluster.console(onFirst), QemuCluster.console(handle(moved.facts().placement().nodeId(), vmId)));
    VmHandle onSecond = handle(second.facts().nodeId(), vmId);
    await("timeslot " + first.facts().timeslotId() + " expired", Duration.ofSeconds(60),
        () -> entities.timeslot(first.facts().timeslotId(), Timeslot.GetTimeslot::new).toCompletableFuture().join(),
        s -> s instanceof TimeslotState.Expired);

    // the second expires with no other timeslot: the VM is suspended, a new timeslot is requested, and it resumes there
    VmState resumed = await("VM " + vmId + " resumed elsewhere", Duration.ofSeconds(180), () -> vm(vmId),
        s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(second.facts().timeslotId()));
    TestImages.assertContinued(QemuCluster.console(onSecond), QemuCluster.console(handle(resumed.facts().placement().nodeId(), vmId)));
    entities.vm(vmId, r -> new Vm.StopVm(Cause.user(owner), r)).toCompletableFuture().join();
  }
}
