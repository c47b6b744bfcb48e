package io.ferry.controlplane.entity;

import static io.ferry.controlplane.entity.EntityTestSupport.CLOCK;
import static io.ferry.controlplane.entity.EntityTestSupport.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.entity.Vm.*;
import io.ferry.journal.Cause;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An expiry's command reaches a VM after the VM has moved (the evacuation decides on a catalog that
 * can lag behind the entity): it must not suspend, migrate or stop the VM on its new timeslot.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class VmExpiryGuardTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(EntityTestSupport.config()).build();

  static final VmSpec SPEC = new VmSpec("alice", Flavour.TINY, "debian-tiny", VmMode.DYNAMIC);
  static final Placement A = new Placement("slot-a", "node-a");
  static final Placement B = new Placement("slot-b", "node-b");
  static final Placement C = new Placement("slot-c", "node-c");
  static final Cause USER = Cause.user("alice");

  private EventSourcedBehaviorTestKit<Command, VmEvent, VmState> vm;

  private StatusReply<VmState> run(Function<ActorRef<StatusReply<VmState>>, Command> command) {
    return vm.<StatusReply<VmState>>runCommand(command).reply();
  }

  private String attempt() {
    return vm.getState().facts().attempt();
  }

  /** A VM that ran on slot-a and was migrated to slot-b when slot-a expired. */
  private void movedFromAToB() {
    vm = EventSourcedBehaviorTestKit.create(testKit.system(), Vm.create("vm-" + UUID.randomUUID(), CLOCK, new RecordingLink(),
        (slot, id) -> {}));
    run(r -> new CreateVm(SPEC, USER, r));
    run(r -> new PlaceVm(A, USER, r));
    String placed = attempt();
    run(r -> new ReportStarting(placed, r));
    run(r -> new ReportStarted(placed, r));
    run(r -> new MigrateVm(B, Cause.expiry("slot-a"), r));
    String migration = attempt();
    assertEquals(B, run(r -> new ReportMigrated(migration, new MigrationStats(700, 40, 1 << 20), r)).getValue().facts().placement());
  }

  @Test
  void theOldTimeslotsExpiryNeitherSuspendsNorMigratesNorStopsTheVmOnItsNewTimeslot() {
    movedFromAToB();
    assertRejected(run(r -> new SuspendVm("/shared/vm.img", Cause.expiry("slot-a"), r)), "no longer on timeslot slot-a",
        "it is on slot-b", "expiry does not apply");
    assertRejected(run(r -> new MigrateVm(C, Cause.expiry("slot-a"), r)), "no longer on timeslot slot-a");
    assertRejected(run(r -> new StopVm(Cause.expiry("slot-a"), r)), "no longer on timeslot slot-a");
    VmState after = vm.getState();
    assertInstanceOf(VmState.Running.class, after);
    assertEquals(B, after.facts().placement(), "nothing was changed");
  }

  @Test
  void theNewTimeslotsExpiryAndTheUsersOwnCommandsStillApply() {
    movedFromAToB();
    assertInstanceOf(VmState.Suspending.class, run(r -> new SuspendVm("/shared/vm.img", Cause.expiry("slot-b"), r)).getValue());
    String suspend = attempt();
    VmState suspended = run(r -> new ReportSuspended(suspend, 1 << 20, r)).getValue();
    assertInstanceOf(VmState.Suspended.class, suspended);
    // a suspended VM is on no timeslot: no timeslot's expiry stops it
    assertRejected(run(r -> new StopVm(Cause.expiry("slot-b"), r)), "no longer on timeslot slot-b");
    assertTrue(run(r -> new StopVm(USER, r)).isSuccess(), "the user stops it wherever it is");
  }
}
