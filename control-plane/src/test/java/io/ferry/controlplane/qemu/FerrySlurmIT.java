package io.ferry.controlplane.qemu;

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
        .withValue("ferry.timeslots.slurm.conf", ConfigValueFactory.fromAnyRef(slurmConf().toString())));
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
    assertTrue(reason.contains("slurm batch system refused the job") && reason.contains("invalid partition"), reason);
  }

  @Test
  void aVmSurvivesThreeConsecutiveExpiriesOnSlurmLiveEachTime() {
    String owner = "slurm" + cluster.run;
    List<TimeslotState> slots = new ArrayList<>();
    for (int i = 0; i < 4; i++) slots.add(cluster.active(cluster.requestTimeslot(owner, Duration.ofMinutes(5))));
    String vmId = cluster.startVm(owner, slots.get(0));
    VmHandle current = cluster.handle(slots.get(0).facts().nodeId(), vmId);
    TestImages.awaitCounting(QemuCluster.console(current), 3);
    SlurmBatchSystem slurm = SlurmBatchSystem.at(slurmConf(), cluster.root.resolve("jobs"));
    Set<String> visited = new HashSet<>();
    for (int hop = 1; hop <= 3; hop++) {
      String from = cluster.vm(vmId).facts().placement().timeslotId();
      visited.add(from);
      slurm.warn(cluster.timeslot(from).facts().jobId());
      VmState after = cluster.await("hop " + hop + " of " + vmId, Duration.ofSeconds(90), () -> cluster.vm(vmId),
          s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(from));
      assertTrue(!visited.contains(after.facts().placement().timeslotId()), "moved back to an expiring timeslot");
      VmHandle next = cluster.handle(after.facts().placement().nodeId(), vmId);
      TestImages.assertContinued(QemuCluster.console(current), QemuCluster.console(next));
      current = next;
    }
    assertEquals(3, PersistenceQueryHelper.migrations(cluster.control, vmId).size(), "three live migrations journaled");
    cluster.entities.vm(vmId, r -> new Vm.StopVm(Cause.user(owner), r)).toCompletableFuture().join();
  }
}
