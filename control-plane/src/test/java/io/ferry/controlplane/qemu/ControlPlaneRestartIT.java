package io.ferry.controlplane.qemu;

import static io.ferry.controlplane.qemu.QemuCluster.runningOn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.testing.Eventually;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.agent.NodeAgent;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Findings 1 and 4 of "a core that never lies": with one control member, {@code kill -9} of it
 * made every agent fence after 4 s (killing all users' VMs that nobody could have restarted), and
 * after {@code ops/control-plane.sh stop; start} the agents never rejoined, their VMs recorded
 * Running while nothing could reach them. Here an agent runs as {@code bin/ferry-agent} does
 * ({@link NodeAgent#run}: a new member after each rejoin), with a VM on real QEMU; the control
 * member crashes (or leaves), stays away past the Split Brain Resolver's stable-after, and comes
 * back on the same address: the guest never stopped counting, nothing was recorded lost, and the
 * VM is controllable again.
 */
class ControlPlaneRestartIT {
  QemuCluster cluster;
  String node;
  Thread agentThread;
  final AtomicReference<ActorSystem<Void>> agent = new AtomicReference<>();
  final AtomicInteger incarnations = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    cluster = new QemuCluster();
    node = cluster.node("r");
    agentThread = new Thread(() -> NodeAgent.run(cluster.agentConfig(node), system -> {
      agent.set(system);
      incarnations.incrementAndGet();
    }), "agent-" + node);
    agentThread.setDaemon(true);
    agentThread.start();
    cluster.awaitNode(node, s -> s instanceof io.ferry.journal.node.NodeState.Joined);
  }

  @AfterEach
  void stop() throws Exception {
    ActorSystem<Void> a = agent.get();
    if (a != null) a.terminate();
    if (agentThread != null) agentThread.join(30_000);
    if (cluster != null) cluster.close();
  }

  @Test
  void aCrashedControlMemberCostsNoVmAndTheAgentRejoinsItsSuccessor() {
    survives(true);
  }

  @Test
  void aControlPlaneStoppedAndStartedAgainKeepsEveryVmRunningAndControllable() {
    survives(false);
  }

  private void survives(boolean crash) {
    String vm = cluster.createRunning(crash ? "crash" : "restart", node, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(node));
    VmHandle handle = cluster.handle(node, vm);
    TestImages.awaitCounting(QemuCluster.console(handle), 3);
    EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vm, node);
    String boot = GuestConsole.last(QemuCluster.console(handle)).boot();
    try (QemuCensus census = new QemuCensus(vm)) {
      long down = System.nanoTime();
      cluster.restartControl(crash, () -> {
        // the agent ends its member (downed by its own side's resolver, or finding no control member)
        // and starts a new one that waits for the control plane: its QEMU lives on meanwhile
        Eventually.await("the agent's next member", Duration.ofSeconds(60), Duration.ofMillis(200), incarnations::get, n -> n >= 2);
        assertTrue(ProcessHandle.of(handle.pid()).map(ProcessHandle::isAlive).orElse(false), "the QEMU still runs");
      });
      cluster.awaitNode(node, s -> s instanceof io.ferry.journal.node.NodeState.Joined
          && s.facts().agentAddress().contains(":" + agent.get().address().getPort().get() + "/"));
      VmState back = cluster.awaitVm(vm, runningOn(node));
      EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vm, node);
      long unreachableMs = (System.nanoTime() - down) / 1_000_000;
      System.out.println("control plane " + (crash ? "crash" : "restart") + ": VM " + vm + " unreachable for " + unreachableMs
          + " ms (control member away, agent rejoined, entity re-attached)");
      assertEquals(handle.pid(), cluster.handle(node, vm).pid(), "the same QEMU");
      long counted = GuestConsole.last(QemuCluster.console(handle)).n();
      TestImages.awaitCount(QemuCluster.console(handle), counted + 3);
      assertEquals(boot, GuestConsole.last(QemuCluster.console(handle)).boot(), "the guest never restarted");
      assertEquals(List.of(), cluster.journal(vm, VmEvent.VmLost.class), "nothing was recorded lost: " + back);
      census.assertNeverTwice();
    }
    // controllable: a stop goes through to the re-attached QEMU
    cluster.entities.vm(vm, r -> new Vm.StopVm(Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.awaitVm(vm, s -> s instanceof VmState.Stopped);
    Eventually.await("QEMU pid " + handle.pid() + " stopped", Duration.ofSeconds(30), Duration.ofMillis(100),
        () -> ProcessHandle.of(handle.pid()).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
  }
}
