package io.ferry.controlplane.qemu;

import io.ferry.policies.BuiltinPolicies;

import io.ferry.controlplane.entity.Policy;

import io.ferry.nodeagent.driver.qemu.GuestConsole;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.ferry.journal.vm.VmEvent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.controlplane.batch.SlurmBatchSystem;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Timeslots on real Slurm (ops/slurm.sh, four nodes on this host), each a batch job whose script
 * execs a real agent running real QEMU: the batch system's early-warning signal (sent at once with
 * scancel --batch --signal=USR1 to keep the test short) makes the VM's timeslot expire, and the VM
 * is ferried live to another job's node, three times in a row; the guest continues each time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FerrySlurmIT {
  BatchCluster cluster;

  static Path slurmConf() {
    String env = System.getenv("SLURM_CONF");
    return env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".ferry", "slurm", "slurm.conf");
  }

  @BeforeAll
  void start() throws Exception {
    // Slurm's nodes here have 2000 MiB: a timeslot asks for 1500
    cluster = new BatchCluster("slurm", "SLURMD_NODENAME", 1500, ConfigFactory.empty()
        .withValue("ferry.timeslots.slurm.enabled", ConfigValueFactory.fromAnyRef(true))
        .withValue("ferry.timeslots.slurm.conf", ConfigValueFactory.fromAnyRef(slurmConf().toString()))
        // Slurm answers in well under a second here; a frozen slurmctld is given up on after 4 s
        .withValue("ferry.timeslots.slurm.command-timeout", ConfigValueFactory.fromAnyRef("4s")));
  }

  /** Each test starts on an empty Slurm: its timeslots' jobs would otherwise hold the four nodes for minutes. */
  @AfterEach
  void cancelJobs() {
    // cancelled again on every poll: what reacts to the cancelled timeslots may still ask for new ones for a moment
    io.ferry.journal.testing.Eventually.await("Slurm's ferry partition empty", Duration.ofSeconds(60), Duration.ofMillis(500), () -> {
      BatchCluster.run("scancel", "--partition", "ferry");
      return jobsInPartition();
    }, String::isBlank);
  }

  private static String jobsInPartition() {
    try {
      Process p = new ProcessBuilder("squeue", "-h", "-p", "ferry", "-o", "%i %T").start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      return p.waitFor() == 0 ? out.trim() : "squeue failed";
    } catch (Exception e) {
      return "squeue failed: " + e.getMessage();
    }
  }

  @AfterAll
  void stop() {
    try {
      new ProcessBuilder("scancel", "--full", "--partition", "ferry").inheritIO().start().waitFor();
    } catch (Exception e) {
      // best effort: the processes go with the cluster below
    }
    if (cluster != null) cluster.close();
  }

  @Test
  void aJobSlurmRejectsFailsItsTimeslotWithSlurmsReason() {
    String owner = "slurm" + cluster.run;
    String id = "ts-bad-" + cluster.run;
    cluster.entities.timeslot(id, r -> new io.ferry.controlplane.entity.Timeslot.RequestTimeslot(owner,
        new io.ferry.journal.timeslot.TimeslotRequest(2, 1500, Duration.ofMinutes(5), "no-such-partition"), "slurm",
        Cause.user(owner), r)).toCompletableFuture().join();
    TimeslotState failed = cluster.await("timeslot " + id + " failed", Duration.ofSeconds(30), () -> cluster.timeslot(id),
        s -> s instanceof TimeslotState.Failed);
    String reason = ((TimeslotState.Failed) failed).reason();
    assertTrue(reason.contains("slurm batch system did not take the job") && reason.contains("invalid partition"), reason);
  }

  @Test
  void aVmSurvivesThreeConsecutiveExpiriesOnSlurmLiveEachTime() {
    String owner = "slurm" + cluster.run;
    List<TimeslotState> slots = new ArrayList<>();
    for (int i = 0; i < 4; i++) slots.add(cluster.active(cluster.requestTimeslot(owner, Duration.ofMinutes(5))));
    String vmId = cluster.startVm(owner, slots.get(0));
    VmHandle current = cluster.handle(slots.get(0).facts().nodeId(), vmId);
    TestImages.awaitCounting(QemuCluster.console(current), 3);
    EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vmId, slots.get(0).facts().nodeId());
    SlurmBatchSystem slurm = SlurmBatchSystem.at(slurmConf(), cluster.root.resolve("jobs"));
    Set<String> visited = new HashSet<>();
    for (int hop = 1; hop <= 3; hop++) {
      String from = cluster.vm(vmId).facts().placement().timeslotId();
      visited.add(from);
      // the job's end is moved close (its walltime really ends it, within ~2 minutes of its start),
      // and the batch system's warning signal comes at once rather than at end - lead
      String job = cluster.timeslot(from).facts().jobId();
      slurm.moveEnd(job, Duration.ofMinutes(2));
      slurm.warn(job);
      VmState after = cluster.await("hop " + hop + " of " + vmId, Duration.ofSeconds(90), () -> cluster.vm(vmId),
          s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(from));
      assertTrue(!visited.contains(after.facts().placement().timeslotId()), "moved back to an expiring timeslot");
      VmHandle next = cluster.handle(after.facts().placement().nodeId(), vmId);
      TestImages.assertContinued(QemuCluster.console(current), QemuCluster.console(next));
      EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vmId, after.facts().placement().nodeId());
      current = next;
    }
    assertEquals(3, PersistenceQueryHelper.migrations(cluster.control, vmId).size(), "three live migrations journaled");
    for (String left : visited) {
      // each source job then reaches its moved walltime end and its timeslot ends, with no VM left on it
      TimeslotState ended = cluster.await("timeslot " + left + " expired at its moved end", Duration.ofSeconds(180),
          () -> cluster.timeslot(left), s -> s instanceof TimeslotState.Expired);
      assertTrue(ended.facts().end().isBefore(ended.facts().start().plus(Duration.ofMinutes(4))),
          "the moved end was recorded: " + ended.facts().start() + " .. " + ended.facts().end());
    }
    assertInstanceOf(VmState.Running.class, cluster.vm(vmId));
    cluster.stopVm(owner, vmId);
  }

  @Test
  void aJobKilledBeforeItsWarningLosesItsVmWhichRestartsOnAnotherTimeslot() {
    // scancel without any warning: Slurm terminates the agent and its QEMU at once
    cluster.assertAKilledJobLosesItsVmWhichRestartsElsewhere("killed" + cluster.run,
        a -> SlurmBatchSystem.at(slurmConf(), cluster.root.resolve("jobs")).cancel(a.facts().jobId()));
  }

  @Test
  void whileSlurmIsDownRequestsFailClearlyAndRunningVmsAndTimeslotsStay() throws Exception {
    String owner = "down" + cluster.run;
    TimeslotState a = cluster.active(cluster.requestTimeslot(owner, Duration.ofMinutes(5)));
    String vmId = cluster.startVm(owner, a);
    ProcessHandle slurmctld = ProcessHandle.allProcesses()
        .filter(p -> QemuCensus.commandLine(p).contains("slurmctld")).findFirst()
        .orElseThrow(() -> new AssertionError("no slurmctld running (ops/slurm.sh start)"));
    BatchCluster.signal("STOP", slurmctld);
    try {
      String id = cluster.requestTimeslot(owner, Duration.ofMinutes(5));
      TimeslotState failed = cluster.await("timeslot " + id + " failed", Duration.ofSeconds(60), () -> cluster.timeslot(id),
          s -> s instanceof TimeslotState.Failed);
      String reason = ((TimeslotState.Failed) failed).reason();
      assertTrue(reason.contains("did not take the job") && (reason.contains("is Slurm running?") || reason.contains("is slurmctld running")), reason);
      // the keeper could not read any job meanwhile: nothing it follows was failed or ended for that
      assertInstanceOf(TimeslotState.Active.class, cluster.timeslot(a.facts().timeslotId()));
      assertInstanceOf(VmState.Running.class, cluster.vm(vmId));
    } finally {
      BatchCluster.signal("CONT", slurmctld);
    }
    cluster.stopVm(owner, vmId);
  }


  @Test
  void aPolicyKeepsAPoolOfTwoTimeslotsAliveAcrossExpiries() {
    String owner = "pool" + cluster.run;
    String script = BuiltinPolicies.source("keep-pool")
        .replace("var REQUEST = {cores: 2, memoryMiB: 2048, walltimeSeconds: 3600, partition: ''};",
            "var REQUEST = {cores: 2, memoryMiB: 1500, walltimeSeconds: 300, partition: ''};");
    cluster.entities.policy(Policy.id(owner, "keep-pool"), r -> new Policy.ApplyPolicy(owner, "keep-pool", script, "user", owner, r))
        .toCompletableFuture().join();
    String site = "site" + cluster.run;
    try {
      keepsAPool(owner, site);
    } finally {
      // the pool policy would otherwise replace the timeslots the clean-up cancels
      cluster.entities.policy(Policy.id(owner, "keep-pool"), r -> new Policy.DeletePolicy(owner, r)).toCompletableFuture().join();
      cluster.entities.policy(Policy.id(site, "limits"), r -> new Policy.DeletePolicy(site, r)).handle((x, e) -> null)
          .toCompletableFuture().join();
    }
  }

  private void keepsAPool(String owner, String site) {
    Set<String> seen = new HashSet<>();
    seen.add(cluster.active(cluster.requestTimeslot(owner, Duration.ofMinutes(5))).facts().timeslotId());
    seen.add(cluster.active(cluster.requestTimeslot(owner, Duration.ofMinutes(5))).facts().timeslotId());
    Set<String> pool = new HashSet<>(seen);
    SlurmBatchSystem slurm = SlurmBatchSystem.at(slurmConf(), cluster.root.resolve("jobs"));
    for (int expiry = 1; expiry <= 2; expiry++) {
      String expiring = pool.iterator().next();
      slurm.warn(cluster.timeslot(expiring).facts().jobId());
      // the policy asks Slurm for a replacement: two active timeslots again, one of them new
      Set<String> now = cluster.await("a pool of two after expiry " + expiry, Duration.ofSeconds(120), () -> cluster.activeTimeslotsOf(owner),
          active -> active.size() == 2 && !active.contains(expiring));
      Set<String> added = new HashSet<>(now);
      added.removeAll(seen);
      assertEquals(1, added.size(), "one new timeslot: " + now + " after " + seen);
      String fresh = added.iterator().next();
      assertEquals("slurm", cluster.timeslot(fresh).facts().backend());
      Object requested = PersistenceQueryHelper.journal(cluster.control, "Timeslot|" + fresh).get(0);
      assertTrue(requested.toString().contains("policy " + owner + "/keep-pool v1"), "requested by the policy: " + requested);
      seen.addAll(now);
      pool = now;
    }

    // a site-wide policy allows one timeslot per user: the next replacement is refused, naming it
    cluster.entities.policy(Policy.id(site, "limits"), r -> new Policy.ApplyPolicy(site, "limits",
        "on('limits', function (event, view) { ferry.limit({maxTimeslots: 1}); });", "site", site, r)).toCompletableFuture().join();
    String expiring = pool.iterator().next();
    slurm.warn(cluster.timeslot(expiring).facts().jobId());
    cluster.await("the replacement refused by the site policy", Duration.ofSeconds(60),
        () -> PersistenceQueryHelper.journal(cluster.control, "Policy|" + owner + "/keep-pool").toString(),
        journal -> journal.contains("refused: site policy " + site + "/limits v1 allows at most 1 timeslots per user"));
    assertEquals(1, cluster.activeTimeslotsOf(owner).size(), "no new timeslot");
  }
}
