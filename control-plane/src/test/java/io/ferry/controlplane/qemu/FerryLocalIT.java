package io.ferry.controlplane.qemu;

import com.typesafe.config.ConfigFactory;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.controlplane.entity.Node;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.vm.VmEvent;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import io.ferry.journal.testing.Eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
  BatchCluster cluster;

  @BeforeAll
  void start() throws Exception {
    // a killed agent is downed 3 s after it became unreachable (the default 10 s is for real networks)
    cluster = new BatchCluster("local", "FERRY_LOCAL_NODE", 2048,
        ConfigFactory.parseString("ferry.control.split-brain-stable-after = 3s"));
  }

  @AfterAll
  void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void aVmIsFerriedLiveWhenItsTimeslotExpiresAndSuspendedThenResumedWhenNoneIsFree() {
    String owner = "ferry" + cluster.run;
    TimeslotState first = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(45)));
    // 70 s: when the first expires (20 s lead) the second has ~45 s left, room for the move and the 10 s margin
    TimeslotState second = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(70)));
    String vmId = cluster.startVm(owner, first);
    String staticVm = cluster.startVm(owner, first, VmMode.STATIC); // lives and dies with its job
    VmHandle onFirst = cluster.handle(first.facts().nodeId(), vmId);
    TestImages.awaitCounting(QemuCluster.console(onFirst), 3);

    // the first timeslot expires: the VM moves live to the second
    VmState moved = cluster.await("VM " + vmId + " on " + second.facts().timeslotId(), Duration.ofSeconds(60), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(second.facts().timeslotId()));
    VmHandle onSecond = cluster.handle(moved.facts().placement().nodeId(), vmId);
    TestImages.assertContinued(QemuCluster.console(onFirst), QemuCluster.console(onSecond));
    cluster.await("timeslot " + first.facts().timeslotId() + " expired", Duration.ofSeconds(60),
        () -> cluster.timeslot(first.facts().timeslotId()), s -> s instanceof TimeslotState.Expired);
    VmEvent.VmStopRequested stopped = PersistenceQueryHelper.events(cluster.control, staticVm).stream()
        .filter(VmEvent.VmStopRequested.class::isInstance).map(VmEvent.VmStopRequested.class::cast).findFirst()
        .orElseThrow(() -> new AssertionError("the static VM was not stopped with its timeslot"));
    assertTrue(stopped.cause().detail().contains("static"), stopped.cause().toString());
    cluster.await("static VM " + staticVm + " stopped", Duration.ofSeconds(30), () -> cluster.vm(staticVm), s -> s instanceof VmState.Stopped);

    // the second expires with no other timeslot: the VM is suspended, a new timeslot is requested, and it resumes there
    VmState resumed = cluster.await("VM " + vmId + " resumed elsewhere", Duration.ofSeconds(180), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(second.facts().timeslotId()));
    TestImages.assertContinued(QemuCluster.console(onSecond), QemuCluster.console(cluster.handle(resumed.facts().placement().nodeId(), vmId)));
    cluster.stopVm(owner, vmId);
  }

  @Test
  void aKilledAgentAndQemuLoseTheVmWhichIsRestartedElsewhereAndNeverRunsTwice() {
    String owner = "lost" + cluster.run;
    TimeslotState a = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(240)));
    TimeslotState b = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(240)));
    BatchCluster.Guest guest = cluster.bootGuest(owner, a);
    String vmId = guest.vmId();
    String nodeA = a.facts().nodeId();
    VmHandle onA = guest.handle();
    String bootOnA = GuestConsole.last(QemuCluster.console(onA)).boot();
    try (QemuCensus census = new QemuCensus(vmId)) {
      ProcessHandle agent = cluster.agentProcess(nodeA);
      agent.destroyForcibly();
      ProcessHandle.of(onA.pid()).ifPresent(ProcessHandle::destroyForcibly);

      VmState restarted = cluster.await("VM " + vmId + " restarted on " + b.facts().timeslotId(), Duration.ofSeconds(90),
          () -> cluster.vm(vmId), s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(b.facts().timeslotId()));
      Path consoleB = QemuCluster.console(cluster.handle(restarted.facts().placement().nodeId(), vmId));
      TestImages.awaitCounting(consoleB, 2);
      assertTrue(GuestConsole.booted(consoleB), "the restarted guest was cold-booted");
      assertNotEquals(bootOnA, GuestConsole.last(consoleB).boot(), "a new boot");
      census.assertNeverTwice();
    }
    List<VmEvent> events = PersistenceQueryHelper.events(cluster.control, vmId);
    VmEvent.VmLost lost = events.stream().filter(VmEvent.VmLost.class::isInstance).map(VmEvent.VmLost.class::cast)
        .findFirst().orElseThrow(() -> new AssertionError("no VmLost in " + events));
    assertEquals(nodeA, lost.nodeId());
    VmEvent.VmPlaced replaced = (VmEvent.VmPlaced) events.get(events.indexOf(lost) + 1);
    assertTrue(replaced.cause().detail().contains("was lost"), replaced.cause().toString());
    cluster.await("node " + nodeA + " lost", Duration.ofSeconds(30),
        () -> cluster.entities.node(nodeA, Node.GetNode::new).toCompletableFuture().join(), s -> s instanceof NodeState.Lost);
    cluster.stopVm(owner, vmId);
  }

  @Test
  void aFrozenAgentIsDownedAndWhenItWakesKillsItsQemuItself() throws Exception {
    String owner = "frozen" + cluster.run;
    TimeslotState slot = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(240)));
    BatchCluster.Guest guest = cluster.bootGuest(owner, slot);
    String vmId = guest.vmId();
    String node = slot.facts().nodeId();
    VmHandle handle = guest.handle();
    ProcessHandle agent = cluster.agentProcess(node);
    try (QemuCensus census = new QemuCensus(vmId)) {
      BatchCluster.signal("STOP", agent);
      // the control side downs the silent agent: its node and VM are lost (no other timeslot: no restart)
      cluster.await("VM " + vmId + " lost", Duration.ofSeconds(60), () -> cluster.vm(vmId), s -> s instanceof VmState.Lost);
      assertTrue(ProcessHandle.of(handle.pid()).isPresent(), "the frozen agent's QEMU still runs: only the agent can kill it");
      BatchCluster.signal("CONT", agent);
      // on waking it learns it was downed (or finds itself cut off) and fences: kills its QEMU, then exits
      Eventually.await("QEMU pid " + handle.pid() + " killed by its fenced agent", Duration.ofSeconds(30), Duration.ofMillis(100),
          () -> ProcessHandle.of(handle.pid()).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
      Eventually.await("the fenced agent exits", Duration.ofSeconds(30), Duration.ofMillis(100), agent::isAlive, alive -> !alive);
      census.assertNeverTwice();
    } finally {
      if (agent.isAlive()) BatchCluster.signal("CONT", agent);
    }
    cluster.stopVm(owner, vmId);
  }

  @Test
  void aUsersPolicyDecidesTheMoveWithTheAuditNamingItAndAFailingPolicyFallsBackToTheBuiltIn() throws Exception {
    String owner = "scripted" + cluster.run;
    String failing = "failing" + cluster.run;
    String script = java.nio.file.Files.readString(Path.of("..", "policies", "examples", "most-time-left.js"));
    apply(owner, "most-time-left", script);
    apply(failing, "broken", "on('timeslot.expiring', function (event, view) {\n  throw new Error('no plan for ' + event.timeslot);\n});");
    // the first timeslots expire (end - 20 s lead) about 55 s after they start: time to set up the rest
    TimeslotState first = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(75)));
    TimeslotState failingFirst = cluster.active(cluster.requestTimeslot(failing, Duration.ofSeconds(75)));
    String vmId = cluster.bootGuest(owner, first).vmId();
    String other = cluster.bootGuest(failing, failingFirst).vmId();
    TimeslotState longest = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(240)));
    cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(150)));
    TimeslotState failingNext = cluster.active(cluster.requestTimeslot(failing, Duration.ofSeconds(240)));

    // the user's script moves the VM to the timeslot with the most time left; the audit names it, its version and line
    cluster.await("VM " + vmId + " on " + longest.facts().timeslotId(), Duration.ofSeconds(90), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(longest.facts().timeslotId()));
    VmEvent.VmMigrationStarted started = PersistenceQueryHelper.events(cluster.control, vmId).stream()
        .filter(VmEvent.VmMigrationStarted.class::isInstance).map(VmEvent.VmMigrationStarted.class::cast).findFirst().orElseThrow();
    assertEquals("policy " + owner + "/most-time-left v1", started.cause().actor(), started.cause().toString());
    assertTrue(started.cause().detail().startsWith("line 7: Migrate"), started.cause().toString());
    List<Object> decisions = PersistenceQueryHelper.journal(cluster.control, "Policy|" + owner + "/most-time-left");
    assertTrue(decisions.stream().anyMatch(e -> e instanceof io.ferry.journal.policy.PolicyEvent.PolicyDecided d
        && d.outcomes().contains("accepted") && d.trigger().startsWith("timeslot.expiring")), decisions.toString());

    // the failing script is journaled as failed, and the built-in evacuation moves the other VM in time
    cluster.await("VM " + other + " on " + failingNext.facts().timeslotId(), Duration.ofSeconds(90), () -> cluster.vm(other),
        s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(failingNext.facts().timeslotId()));
    List<Object> failures = PersistenceQueryHelper.journal(cluster.control, "Policy|" + failing + "/broken");
    assertTrue(failures.stream().anyMatch(e -> e instanceof io.ferry.journal.policy.PolicyEvent.PolicyFailed f
        && f.reason().contains("no plan for " + failingFirst.facts().timeslotId()) && f.reason().contains("line 2")), failures.toString());
    cluster.stopVm(owner, vmId);
    cluster.stopVm(failing, other);
  }

  private void apply(String owner, String name, String source) {
    cluster.entities.policy(io.ferry.controlplane.entity.Policy.id(owner, name),
        r -> new io.ferry.controlplane.entity.Policy.ApplyPolicy(owner, name, source, "user", owner, r)).toCompletableFuture().join();
  }
}
