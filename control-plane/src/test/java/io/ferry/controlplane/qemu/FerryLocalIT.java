package io.ferry.controlplane.qemu;

import com.typesafe.config.ConfigFactory;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import java.time.Duration;
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
    cluster = new BatchCluster("local", "FERRY_LOCAL_NODE", 2048, ConfigFactory.empty());
  }

  @AfterAll
  void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void aVmIsFerriedLiveWhenItsTimeslotExpiresAndSuspendedThenResumedWhenNoneIsFree() {
    String owner = "ferry" + cluster.run;
    TimeslotState first = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(45)));
    TimeslotState second = cluster.active(cluster.requestTimeslot(owner, Duration.ofSeconds(100)));
    String vmId = cluster.startVm(owner, first);
    VmHandle onFirst = cluster.handle(first.facts().nodeId(), vmId);
    TestImages.awaitCounting(QemuCluster.console(onFirst), 3);

    // the first timeslot expires: the VM moves live to the second
    VmState moved = cluster.await("VM " + vmId + " on " + second.facts().timeslotId(), Duration.ofSeconds(60), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && s.facts().placement().timeslotId().equals(second.facts().timeslotId()));
    VmHandle onSecond = cluster.handle(moved.facts().placement().nodeId(), vmId);
    TestImages.assertContinued(QemuCluster.console(onFirst), QemuCluster.console(onSecond));
    cluster.await("timeslot " + first.facts().timeslotId() + " expired", Duration.ofSeconds(60),
        () -> cluster.timeslot(first.facts().timeslotId()), s -> s instanceof TimeslotState.Expired);

    // the second expires with no other timeslot: the VM is suspended, a new timeslot is requested, and it resumes there
    VmState resumed = cluster.await("VM " + vmId + " resumed elsewhere", Duration.ofSeconds(180), () -> cluster.vm(vmId),
        s -> s instanceof VmState.Running && !s.facts().placement().timeslotId().equals(second.facts().timeslotId()));
    TestImages.assertContinued(QemuCluster.console(onSecond), QemuCluster.console(cluster.handle(resumed.facts().placement().nodeId(), vmId)));
    cluster.entities.vm(vmId, r -> new Vm.StopVm(Cause.user(owner), r)).toCompletableFuture().join();
  }
}
