package io.ferry.controlplane.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The agent runs as its own process (as in a batch job); kill -9 it while its QEMU runs, start it
 * again: it re-attaches to the same QEMU, the guest was never restarted, and the VM is still
 * under control.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentRestartIT {
  QemuCluster cluster;
  final List<Process> agents = new ArrayList<>();

  @BeforeAll
  void start() throws IOException {
    cluster = new QemuCluster();
  }

  @AfterAll
  void stop() {
    agents.forEach(Process::destroyForcibly);
    if (cluster != null) cluster.close();
  }

  private Process agentProcess(String node, String logName) throws IOException {
    Path agentModule = Path.of("..", "node-agent", "target").toAbsolutePath().normalize();
    String classpath = agentModule.resolve("classes") + ":" + Files.readString(agentModule.resolve("runtime-classpath.txt")).trim();
    List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classpath, "io.ferry.nodeagent.agent.NodeAgentCommand",
        "--node", node, "--seed", "127.0.0.1:" + cluster.controlPort,
        "--state-dir", cluster.stateDir(node).toString(), "--shared-dir", cluster.shared().toString(),
        "--images", TestImages.dir().toString(), "--cores", "2", "--memory-mib", "2048");
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(cluster.root.resolve(logName).toFile()).start();
    agents.add(p);
    return p;
  }

  @Test
  void aKilledAgentRestartsAndReattachesToItsRunningGuest() throws IOException {
    String node = cluster.node("r");
    Process first = agentProcess(node, "agent-1.log");
    cluster.awaitNode(node, s -> s instanceof NodeState.Joined);
    String firstAgent = cluster.awaitNode(node, s -> s instanceof NodeState.Joined).facts().agentAddress();

    String vm = cluster.createRunning("survivor", node, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, QemuCluster.runningOn(node));
    VmHandle handle = cluster.handle(node, vm);
    Path console = QemuCluster.console(handle);
    TestImages.awaitCounting(console, 5);
    String boot = GuestConsole.last(console).boot();
    assertTrue(first.toHandle().children().anyMatch(c -> c.pid() == handle.pid()), "QEMU is a child of the agent");

    first.destroyForcibly(); // SIGKILL: no shutdown hook, no goodbye
    cluster.await("the agent to die", first::isAlive, alive -> !alive);
    ProcessHandle qemu = ProcessHandle.of(handle.pid()).orElseThrow();
    long counted = GuestConsole.last(console).n();
    TestImages.awaitCount(console, counted + 5);
    assertTrue(qemu.isAlive(), "QEMU died with its agent");

    agentProcess(node, "agent-2.log");
    NodeState rejoined = cluster.awaitNode(node, s -> s instanceof NodeState.Joined && !s.facts().agentAddress().equals(firstAgent));
    assertFalse(rejoined.facts().agentAddress().equals(firstAgent));

    VmHandle after = cluster.handle(node, vm);
    assertEquals(handle, after, "the restarted agent kept the same QEMU");
    assertTrue(qemu.isAlive());
    long before = GuestConsole.last(console).n();
    TestImages.awaitCount(console, before + 5);
    assertEquals(boot, GuestConsole.last(console).boot(), "the guest was restarted");
    assertEquals(1, Files.readAllLines(console).stream().filter(l -> l.contains("FERRY-GUEST booted")).count(),
        "the guest booted more than once");
    assertTrue(cluster.vm(vm) instanceof VmState.Running);

    // The new agent really controls the re-attached QEMU: stopping the VM ends that process.
    cluster.entities.vm(vm, r -> new Vm.StopVm(Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.awaitVm(vm, s -> s instanceof VmState.Stopped);
    cluster.await("QEMU pid " + handle.pid() + " to exit", qemu::isAlive, alive -> !alive);
  }
}
