package io.ferry.controlplane.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.ferry.journal.testing.Eventually;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Timeslots on real Grid Engine (ops/gridengine.sh: queue ferry.q on this host, 8 slots, notify
 * 20 s), each a job whose script runs a real agent with real QEMU. Nothing is hurried here: Grid
 * Engine moves no running job's end and has no command for an early warning, so every expiry is a
 * real one — the job's -notify SIGUSR2 at h_rt, 20 s before Grid Engine kills it at its walltime.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FerryGridEngineIT {
  static final Map<String, String> GE = Map.of("SGE_ROOT", "/var/lib/gridengine", "SGE_CELL", "default");
  BatchCluster cluster;

  @BeforeAll
  void start() throws Exception {
    // a killed agent is downed 3 s after it became unreachable; a frozen qmaster is given up on after 4 s
    cluster = new BatchCluster("gridengine", "FERRY_NODE", 1500, ConfigFactory.parseString("""
        ferry.control.split-brain-stable-after = 3s
        ferry.timeslots.gridengine.enabled = on
        ferry.timeslots.gridengine.command-timeout = 4s
        """));
  }

  /** Each test starts on an empty queue: the jobs are killed (qdel alone would wait the notify time first). */
  @AfterEach
  void endJobs() {
    Eventually.await("Grid Engine's queue empty", Duration.ofSeconds(60), Duration.ofMillis(500), () -> {
      String jobs = qstat();
      for (String line : jobs.lines().toList()) {
        String id = line.trim().split("\\s+")[0];
        if (!id.matches("\\d+")) continue;
        run("qdel", id);
        jobProcess(id).ifPresent(ProcessHandle::destroyForcibly);
      }
      return jobs;
    }, String::isBlank);
  }

  @AfterAll
  void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void aVmIsFerriedLiveAcrossTwoExpiriesThenSuspendedAndResumedWhenNoTimeslotIsFree() {
    String owner = "ge" + cluster.run;
    // b first: a's 20 s until its warning start only once b is up (a job and its agent take ~10 s
    // here), so that the guest counts on a before a expires (a fresh-clone run once met a's expiry
    // before the guest had printed a line, and waited in vain on a's console)
    TimeslotState b = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(80)));
    TimeslotState a = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(40)));
    assertTrue(a.facts().nodeId().matches(".+-job" + a.facts().jobId()), "a node is a job's share of a host: " + a.facts().nodeId());
    String vmId = cluster.startVm(owner, a);
    VmHandle onA = cluster.handle(a.facts().nodeId(), vmId);
    TestImages.awaitCounting(QemuCluster.console(onA), 3);

    // a's real expiry (its job's warning and the keeper's lead): live to b, the only other timeslot
    VmHandle onB = hop(vmId, a, b);
    TimeslotState c = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(80)));
    TimeslotState expiredA = cluster.await("timeslot " + a.facts().timeslotId() + " expired", Duration.ofSeconds(60),
        () -> cluster.timeslot(a.facts().timeslotId()), s -> s instanceof TimeslotState.Expired);
    Duration lasted = Duration.between(expiredA.facts().start(), expiredA.facts().end());
    assertTrue(lasted.compareTo(Duration.ofSeconds(40)) >= 0 && lasted.compareTo(Duration.ofSeconds(46)) <= 0,
        "Grid Engine ended the job at its walltime (h_rt + notify): " + lasted);

    // b's expiry: live to c
    VmHandle onC = hop(vmId, b, c);
    assertEquals(2, PersistenceQueryHelper.migrations(cluster.control, vmId).size(), "two live migrations journaled");

    // c expires with no other timeslot: suspended, a new timeslot requested from Grid Engine, resumed there
    VmState suspended = cluster.await("VM " + vmId + " suspended", Duration.ofSeconds(90), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Suspended);
    VmState resumed = cluster.await("VM " + vmId + " resumed elsewhere", Duration.ofSeconds(90), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(c.facts().timeslotId()));
    assertEquals("gridengine", cluster.timeslot(resumed.facts().placement().timeslotId()).facts().backend());
    TestImages.assertContinued(QemuCluster.console(onC), QemuCluster.console(cluster.handle(resumed.facts().placement().nodeId(), vmId)));
    assertTrue(suspended.toString().contains(c.facts().timeslotId()) || PersistenceQueryHelper.events(cluster.control, vmId).stream()
        .anyMatch(VmEvent.VmSuspended.class::isInstance), "the suspend is journaled");
    cluster.stopVm(owner, vmId);
  }

  private VmHandle hop(String vmId, TimeslotState from, TimeslotState to) {
    VmHandle before = cluster.handle(from.facts().nodeId(), vmId);
    VmState moved = cluster.await("VM " + vmId + " on " + to.facts().timeslotId(), Duration.ofSeconds(90), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(to.facts().timeslotId()));
    VmHandle after = cluster.handle(moved.facts().placement().nodeId(), vmId);
    TestImages.assertContinued(QemuCluster.console(before), QemuCluster.console(after));
    return after;
  }

  @Test
  void aJobKilledBeforeItsWarningLosesItsVmWhichRestartsOnAnotherTimeslot() {
    // the job's own process is killed (as the OOM killer or an operator's kill -9 would): no
    // warning; the job script's watchdog ends the agent and its QEMU with it
    cluster.assertAKilledJobLosesItsVmWhichRestartsElsewhere("gekilled" + cluster.run, a -> jobProcess(a.facts().jobId())
        .orElseThrow(() -> new AssertionError("no process of job " + a.facts().jobId())).destroyForcibly());
  }

  @Test
  void whileGridEngineIsDownRequestsFailClearlyAndRunningVmsAndTimeslotsStay() {
    String owner = "gedown" + cluster.run;
    TimeslotState a = cluster.active(cluster.requestTimeslot(owner, Duration.ofMinutes(5)));
    String vmId = cluster.startVm(owner, a);
    ProcessHandle qmaster = ProcessHandle.allProcesses().filter(p -> QemuCensus.commandLine(p).contains("sge_qmaster")).findFirst()
        .orElseThrow(() -> new AssertionError("no sge_qmaster running (ops/gridengine.sh start)"));
    BatchCluster.signal("STOP", qmaster);
    try {
      String id = cluster.requestTimeslot(owner, Duration.ofMinutes(5));
      TimeslotState failed = cluster.await("timeslot " + id + " failed", Duration.ofSeconds(60), () -> cluster.timeslot(id),
          s -> s instanceof TimeslotState.Failed);
      String reason = ((TimeslotState.Failed) failed).reason();
      assertTrue(reason.contains("did not take the job") && reason.contains("is Grid Engine running?"), reason);
      // the keeper could not read any job meanwhile: nothing it follows was failed or ended for that
      assertInstanceOf(TimeslotState.Active.class, cluster.timeslot(a.facts().timeslotId()));
      assertInstanceOf(VmState.Running.class, cluster.vm(vmId));
    } finally {
      BatchCluster.signal("CONT", qmaster);
    }
    cluster.stopVm(owner, vmId);
  }

  /** The job's own process: the job script Grid Engine's execd spooled and runs (not its --session part). */
  static java.util.Optional<ProcessHandle> jobProcess(String jobId) {
    return ProcessHandle.allProcesses().filter(p -> QemuCensus.commandLine(p).trim().endsWith("/job_scripts/" + jobId)).findFirst();
  }

  private static String qstat() {
    try {
      ProcessBuilder pb = new ProcessBuilder("qstat", "-u", "*");
      pb.environment().putAll(GE);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return p.waitFor() == 0 ? out.trim() : "qstat failed";
    } catch (Exception e) {
      return "qstat failed: " + e.getMessage();
    }
  }

  private static void run(String... command) {
    try {
      ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
      pb.environment().putAll(GE);
      pb.start().waitFor();
    } catch (Exception e) {
      throw new AssertionError("cannot run " + command[0] + ": " + e.getMessage(), e);
    }
  }
}
