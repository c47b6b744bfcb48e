package io.ferry.controlplane.entity;

import static io.ferry.controlplane.entity.EntityTestSupport.CLOCK;
import static io.ferry.controlplane.entity.EntityTestSupport.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.entity.Vm.*;
import io.ferry.journal.Cause;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.MigrationSettings;
import java.time.Duration;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmEvent.*;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(EntityTestSupport.config()).build();

  static final VmSpec SPEC = new VmSpec("alice", Flavour.TINY, "debian-tiny", VmMode.DYNAMIC);
  static final Placement A = new Placement("slot-a", "node-a");
  static final Placement B = new Placement("slot-b", "node-b");
  static final Cause USER = Cause.user("alice");

  /** Records what the entity sends to agents; node "gone" has no agent. */
  final RecordingLink link = new RecordingLink();

  /** Timeslot rooms the entity gave back, as "vm@slot". */
  final List<String> freed = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Every event type some test persisted: checked against the lifecycle after all tests. */
  private final Set<Class<?>> persisted = new HashSet<>();

  private EventSourcedBehaviorTestKit<Command, VmEvent, VmState> vm() {
    return EventSourcedBehaviorTestKit.create(testKit.system(), Vm.create("vm-" + UUID.randomUUID(), CLOCK, link,
        (slot, vm) -> freed.add(vm + "@" + slot)));
  }

  /** The attempt the VM under test waits for, as its agent would echo it (set by {@link #run}). */
  private static volatile String current;

  private static String cur() {
    return current;
  }

  private StatusReply<VmState> run(EventSourcedBehaviorTestKit<Command, VmEvent, VmState> vm,
      Function<ActorRef<StatusReply<VmState>>, Command> command) {
    current = vm.getState().facts().attempt();
    CommandResultWithReply<Command, VmEvent, VmState, StatusReply<VmState>> result = vm.runCommand(command);
    result.events().forEach(e -> persisted.add(e.getClass()));
    if (result.reply().isSuccess()) assertEquals(result.state(), result.reply().getValue());
    return result.reply();
  }

  /** Commands that bring a new VM to each stage. */
  private static final Map<Class<? extends VmState>, List<Function<ActorRef<StatusReply<VmState>>, Command>>> PATHS = paths();

  private static Map<Class<? extends VmState>, List<Function<ActorRef<StatusReply<VmState>>, Command>>> paths() {
    Function<ActorRef<StatusReply<VmState>>, Command> create = r -> new CreateVm(SPEC, USER, r);
    Function<ActorRef<StatusReply<VmState>>, Command> place = r -> new PlaceVm(A, USER, r);
    Function<ActorRef<StatusReply<VmState>>, Command> starting = r -> new ReportStarting(cur(), r);
    Function<ActorRef<StatusReply<VmState>>, Command> started = r -> new ReportStarted(cur(), r);
    List<Function<ActorRef<StatusReply<VmState>>, Command>> running = List.of(create, place, starting, started);
    Map<Class<? extends VmState>, List<Function<ActorRef<StatusReply<VmState>>, Command>>> m = new LinkedHashMap<>();
    m.put(VmState.Empty.class, List.of());
    m.put(VmState.Requested.class, List.of(create));
    m.put(VmState.Placed.class, List.of(create, place));
    m.put(VmState.Starting.class, List.of(create, place, starting));
    m.put(VmState.Running.class, running);
    m.put(VmState.Migrating.class, concat(running, r -> new MigrateVm(B, USER, r)));
    m.put(VmState.Suspending.class, concat(running, r -> new SuspendVm("/shared/vm.img", USER, r)));
    m.put(VmState.Suspended.class, concat(m.get(VmState.Suspending.class), r -> new ReportSuspended(cur(), 1000, r)));
    m.put(VmState.Resuming.class, concat(m.get(VmState.Suspended.class), r -> new ResumeVm(B, USER, r)));
    m.put(VmState.Stopping.class, concat(running, r -> new StopVm(USER, r)));
    m.put(VmState.Stopped.class, concat(m.get(VmState.Stopping.class), r -> new ReportStopped(cur(), r)));
    m.put(VmState.Failed.class, concat(m.get(VmState.Starting.class), r -> new ReportFailed(cur(), "qemu exited", r)));
    m.put(VmState.Lost.class, concat(running, r -> new ReportLost("node-a", "its node was lost", r)));
    m.put(VmState.Deleted.class, concat(m.get(VmState.Stopped.class), r -> new DeleteVm(USER, r)));
    return m;
  }

  private static List<Function<ActorRef<StatusReply<VmState>>, Command>> concat(
      List<Function<ActorRef<StatusReply<VmState>>, Command>> path, Function<ActorRef<StatusReply<VmState>>, Command> last) {
    var all = new java.util.ArrayList<>(path);
    all.add(last);
    return all;
  }

  private EventSourcedBehaviorTestKit<Command, VmEvent, VmState> at(Class<? extends VmState> stage) {
    var vm = vm();
    for (var command : PATHS.get(stage)) {
      assertTrue(run(vm, command).isSuccess(), "path to " + stage.getSimpleName());
    }
    assertInstanceOf(stage, vm.getState());
    return vm;
  }

  /**
   * Every stage against every command whose outcome the lifecycle table alone decides: accepted
   * (persisting exactly the expected event) where the table allows that event, rejected with the
   * stage's name everywhere else.
   */
  @Test
  void everyStageAcceptsExactlyTheCommandsItsLifecycleAllows() {
    Map<String, Function<ActorRef<StatusReply<VmState>>, Command>> commands = new LinkedHashMap<>();
    Map<String, Class<? extends VmEvent>> expected = new LinkedHashMap<>();
    commands.put("CreateVm", r -> new CreateVm(SPEC, USER, r)); expected.put("CreateVm", VmRequested.class);
    commands.put("PlaceVm", r -> new PlaceVm(B, USER, r)); expected.put("PlaceVm", VmPlaced.class);
    commands.put("ReportStarting", r -> new ReportStarting(cur(), r)); expected.put("ReportStarting", VmStarting.class);
    commands.put("ReportStarted", r -> new ReportStarted(cur(), r)); expected.put("ReportStarted", VmStarted.class);
    commands.put("MigrateVm", r -> new MigrateVm(B, USER, r)); expected.put("MigrateVm", VmMigrationStarted.class);
    commands.put("ReportMigrated", r -> new ReportMigrated(cur(), new MigrationStats(700, 40, 1 << 20), r)); expected.put("ReportMigrated", VmMigrated.class);
    commands.put("ReportMigrationFailed", r -> new ReportMigrationFailed(cur(), "cancelled", false, r)); expected.put("ReportMigrationFailed", VmMigrationFailed.class);
    commands.put("SuspendVm", r -> new SuspendVm("/shared/x.img", USER, r)); expected.put("SuspendVm", VmSuspendStarted.class);
    commands.put("ReportSuspended", r -> new ReportSuspended(cur(), 10, r)); expected.put("ReportSuspended", VmSuspended.class);
    commands.put("ReportSuspendFailed", r -> new ReportSuspendFailed(cur(), "disk full", r)); expected.put("ReportSuspendFailed", VmSuspendFailed.class);
    commands.put("ReportResumed", r -> new ReportResumed(cur(), r)); expected.put("ReportResumed", VmResumed.class);
    commands.put("ReportResumeFailed", r -> new ReportResumeFailed(cur(), "bad image", r)); expected.put("ReportResumeFailed", VmResumeFailed.class);
    commands.put("DeleteVm", r -> new DeleteVm(USER, r)); expected.put("DeleteVm", VmDeleted.class);

    for (Class<? extends VmState> stage : PATHS.keySet()) {
      for (var entry : commands.entrySet()) {
        var vm = at(stage);
        VmState before = vm.getState();
        Class<? extends VmEvent> event = expected.get(entry.getKey());
        current = before.facts().attempt();
        var result = vm.runCommand(entry.getValue());
        result.events().forEach(e -> persisted.add(e.getClass()));
        String what = entry.getKey() + " in " + stage.getSimpleName();
        if (VmState.LIFECYCLE.allowedFrom(event).contains(stage)) {
          assertTrue(result.reply().isSuccess(), what + ": " + result.reply());
          assertEquals(List.of(event), result.events().stream().map(Object::getClass).toList(), what);
        } else {
          assertRejected(result.reply(), "VM " + before.vmId());
          assertTrue(result.hasNoEvents(), what + " persisted " + result.events());
          assertEquals(before, vm.getState(), what + " changed the state");
        }
      }
    }
  }

  @Test
  void aVmIsFerriedSuspendedResumedStoppedAndDeleted() {
    var vm = at(VmState.Running.class);
    assertEquals(A, vm.getState().facts().placement());
    run(vm, r -> new MigrateVm(B, Cause.expiry("slot-a"), r));
    var migrated = run(vm, r -> new ReportMigrated(cur(), new MigrationStats(700, 40, 1 << 20), r)).getValue();
    assertInstanceOf(VmState.Running.class, migrated);
    assertEquals(B, migrated.facts().placement());

    run(vm, r -> new SuspendVm("/shared/vm.img", USER, r));
    var suspended = run(vm, r -> new ReportSuspended(cur(), 96_000_000, r)).getValue();
    assertInstanceOf(VmState.Suspended.class, suspended);
    assertNull(suspended.facts().placement());
    assertEquals("/shared/vm.img", suspended.facts().lastImage());

    run(vm, r -> new ResumeVm(A, USER, r));
    var resumed = run(vm, r -> new ReportResumed(cur(), r)).getValue();
    assertEquals(A, resumed.facts().placement());

    assertInstanceOf(VmState.Stopping.class, run(vm, r -> new StopVm(USER, r)).getValue());
    assertInstanceOf(VmState.Stopping.class, run(vm, r -> new StopVm(USER, r)).getValue(), "stop is idempotent");
    assertInstanceOf(VmState.Stopped.class, run(vm, r -> new ReportStopped(cur(), r)).getValue());
    assertInstanceOf(VmState.Deleted.class, run(vm, r -> new DeleteVm(USER, r)).getValue());
  }

  @Test
  void migratingAStoppedVmIsRejectedWithTheReason() {
    var vm = at(VmState.Stopped.class);
    assertRejected(run(vm, r -> new MigrateVm(B, USER, r)), "is Stopped", "MigrateVm needs it Running");
  }

  @Test
  void commandsToAVmThatWasNeverCreatedSayItDoesNotExist() {
    assertRejected(run(vm(), r -> new MigrateVm(B, USER, r)), "does not exist");
    assertRejected(run(at(VmState.Running.class), r -> new CreateVm(SPEC, USER, r)), "already exists");
  }

  @Test
  void migratingToTheNodeItRunsOnIsRejected() {
    assertRejected(run(at(VmState.Running.class), r -> new MigrateVm(new Placement("slot-c", "node-a"), USER, r)),
        "already runs on node node-a");
  }

  @Test
  void aFailedMigrationLeavesTheVmRunningOnItsSource() {
    var vm = at(VmState.Migrating.class);
    var state = run(vm, r -> new ReportMigrationFailed(cur(), "did not converge by its deadline", false, r)).getValue();
    assertInstanceOf(VmState.Running.class, state);
    assertEquals(A, state.facts().placement());
  }

  /** A late report of an earlier attempt (another target) must not be applied to the next one. */
  @Test
  void aReportOfAnEarlierAttemptIsIgnored() {
    var vm = at(VmState.Migrating.class);
    String first = vm.getState().facts().attempt();
    run(vm, r -> new ReportMigrationFailed(first, "the target could not prepare", false, r));
    Placement c = new Placement("slot-c", "node-c");
    var second = run(vm, r -> new MigrateVm(c, USER, r)).getValue();
    assertNotEquals(first, second.facts().attempt());
    assertRejected(run(vm, r -> new ReportMigrated(first, new MigrationStats(1, 1, 1), r)), "is of attempt " + first);
    assertRejected(run(vm, r -> new ReportMigrationFailed(first, "late", false, r)), "is of attempt " + first);
    assertEquals(second, vm.getState(), "nothing changed");
    var moved = run(vm, r -> new ReportMigrated(cur(), new MigrationStats(1, 1, 1), r)).getValue();
    assertEquals(c, moved.facts().placement());
  }

  @Test
  void aQemuThatEndsByItselfMakesTheVmLostWithQemusWordsAndFreesItsRoom() {
    var vm = at(VmState.Running.class);
    String id = vm.getState().vmId();
    assertEquals(vm.getState(), run(vm, r -> new ReportExited("node-z", "QEMU exited", r)).getValue(), "another node's QEMU");
    var lost = run(vm, r -> new ReportExited("node-a", "QEMU (pid 42) exited with status 137 (killed by signal 9)", r)).getValue();
    var state = assertInstanceOf(VmState.Lost.class, lost);
    assertEquals("node-a", state.lostNodeId());
    assertTrue(state.reason().contains("killed by signal 9"), state.reason());
    assertTrue(freed.contains(id + "@slot-a"), freed.toString());

    var stopping = at(VmState.Stopping.class);
    assertInstanceOf(VmState.Stopped.class, run(stopping, r -> new ReportExited("node-a", "QEMU exited", r)).getValue());
    var migrating = at(VmState.Migrating.class);
    assertInstanceOf(VmState.Lost.class, run(migrating, r -> new ReportExited("node-a", "QEMU exited", r)).getValue());
  }

  /**
   * Found by the fault campaign's reading of the code: the exit of the target's waiting QEMU made
   * the VM Lost while its source ran on. It is a failed migration: the VM runs on at the source.
   */
  @Test
  void theTargetsQemuEndingDuringAMigrationFailsTheMigrationAndTheSourceRunsOn() {
    var migrating = at(VmState.Migrating.class);
    var after = run(migrating, r -> new ReportExited("node-b", "QEMU (pid 7) exited with status 137 (killed by signal 9)", r)).getValue();
    var running = assertInstanceOf(VmState.Running.class, after);
    assertEquals("node-a", running.facts().placement().nodeId());
  }

  /** Found by the fault campaign: the source's QEMU died mid-migration and the target's waiting QEMU stayed for good. */
  @Test
  void aMigrationThatEndsWithoutMovingTellsTheTargetToDropItsWaitingQemuAndOneThatMovedDoesNot() {
    var lost = at(VmState.Migrating.class);
    String attempt = lost.getState().facts().attempt();
    run(lost, r -> new ReportExited("node-a", "QEMU exited", r));
    assertTrue(link.sent.stream().anyMatch(x -> x.nodeId().equals("node-b") && x.command() instanceof AgentCommand.AbortIncoming a
        && a.attempt().equals(attempt)), link.sent.toString());
    link.sent.clear();
    var moved = at(VmState.Migrating.class);
    run(moved, r -> new ReportMigrated(cur(), new MigrationStats(1, 1, 1), r));
    assertTrue(link.sent.stream().noneMatch(x -> x.command() instanceof AgentCommand.AbortIncoming), link.sent.toString());
  }

  @Test
  void aMigrationThatEndsWithoutMovingGivesBackItsTargetsRoom() {
    var vm = at(VmState.Migrating.class);
    String id = vm.getState().vmId();
    run(vm, r -> new ReportMigrationFailed(cur(), "cancelled", false, r));
    assertTrue(freed.contains(id + "@slot-b"), freed.toString());
    assertFalse(freed.contains(id + "@slot-a"), "the source's room is still used: " + freed);

    var stopped = at(VmState.Migrating.class);
    run(stopped, r -> new StopVm(USER, r));
    assertTrue(freed.contains(stopped.getState().vmId() + "@slot-b"), "a stop during a migration: " + freed);
  }

  @Test
  void aPostCopyMigrationThatFailedFailsTheVm() {
    var vm = at(VmState.Migrating.class);
    var state = run(vm, r -> new ReportMigrationFailed(cur(), "post-copy failed", true, r)).getValue();
    assertEquals("post-copy failed", assertInstanceOf(VmState.Failed.class, state).reason());
  }

  @Test
  void aStopIsTakenInEveryStageWhereTheVmMayRun() {
    for (var stage : List.of(VmState.Placed.class, VmState.Starting.class, VmState.Running.class, VmState.Migrating.class,
        VmState.Suspending.class, VmState.Resuming.class)) {
      var vm = at(stage);
      var stopping = run(vm, r -> new StopVm(USER, r)).getValue();
      assertInstanceOf(VmState.Stopping.class, stopping, stage.getSimpleName());
      var stop = assertInstanceOf(AgentCommand.StopVm.class, link.last(stopping.vmId(), stopping.facts().placement().nodeId()), stage.getSimpleName());
      assertEquals(stopping.facts().attempt(), stop.attempt(), "the stop carries its own attempt");
    }
  }

  /**
   * A start or stop that failed fails the VM only while that step is in flight: a late failure
   * of the start (an agent lookup that timed out) must not fail a VM that runs.
   */
  @Test
  void aStepFailureCountsOnlyWhileTheStepIsInFlight() {
    for (var stage : List.of(VmState.Placed.class, VmState.Starting.class, VmState.Stopping.class)) {
      assertInstanceOf(VmState.Failed.class, run(at(stage), r -> new ReportFailed(cur(), "qemu exited", r)).getValue(), stage.getSimpleName());
    }
    var running = at(VmState.Running.class);
    assertRejected(run(running, r -> new ReportFailed(cur(), "the agent could not be reached in time", r)), "is Running");
  }

  @Test
  void aVmThatRunsNowhereStopsAtOnce() {
    for (var stage : List.of(VmState.Requested.class, VmState.Suspended.class, VmState.Lost.class, VmState.Failed.class)) {
      var vm = at(stage);
      assertInstanceOf(VmState.Stopped.class, run(vm, r -> new StopVm(USER, r)).getValue(), stage.getSimpleName());
    }
    assertInstanceOf(VmState.Stopped.class, run(at(VmState.Stopped.class), r -> new StopVm(USER, r)).getValue());
    assertRejected(run(at(VmState.Deleted.class), r -> new StopVm(USER, r)), "is Deleted");
  }

  @Test
  void losingItsNodeMakesTheVmLostAndItCanBeRestartedElsewhere() {
    var vm = at(VmState.Running.class);
    assertInstanceOf(VmState.Running.class, run(vm, r -> new ReportLost("node-z", "its node was lost", r)).getValue(), "another node");
    var lost = run(vm, r -> new ReportLost("node-a", "its node was lost", r)).getValue();
    assertInstanceOf(VmState.Lost.class, lost);
    assertRejected(run(vm, r -> new ResumeVm(B, USER, r)), "no suspend image");
    assertEquals(B, run(vm, r -> new PlaceVm(B, Cause.failure("node-a lost"), r)).getValue().facts().placement());

    var suspendedOnce = at(VmState.Resuming.class);
    run(suspendedOnce, r -> new ReportResumed(cur(), r));
    run(suspendedOnce, r -> new ReportLost("node-b", "its node was lost", r));
    assertInstanceOf(VmState.Resuming.class, run(suspendedOnce, r -> new ResumeVm(A, USER, r)).getValue());
  }

  @Test
  void losingTheTargetOfAMigrationFailsTheMigrationOnly() {
    var vm = at(VmState.Migrating.class);
    var state = run(vm, r -> new ReportLost("node-b", "its node was lost", r)).getValue();
    assertInstanceOf(VmState.Running.class, state);
    assertEquals(A, state.facts().placement());
  }

  @Test
  void aRestartRecoversTheSameStateFromTheJournal() {
    for (Class<? extends VmState> stage : PATHS.keySet()) {
      var vm = at(stage);
      VmState before = vm.getState();
      assertEquals(before, vm.restart().state(), stage.getSimpleName());
    }
  }

  @Test
  void eachStageSendsItsAgentTheWorkItWaitsFor() {
    var vm = at(VmState.Placed.class);
    String id = vm.getState().vmId();
    assertInstanceOf(AgentCommand.StartVm.class, link.last(id, "node-a"));
    run(vm, r -> new ReportStarting(cur(), r));
    run(vm, r -> new ReportStarted(cur(), r));
    run(vm, r -> new MigrateVm(B, new MigrationSettings(1 << 20, 100, true, false, Duration.ofSeconds(5)), null, USER, r));
    var migrate = (AgentCommand.MigrateVm) link.last(id, "node-a");
    assertEquals("node-b", migrate.targetNodeId());
    assertTrue(migrate.settings().postCopy());
    run(vm, r -> new ReportMigrated(cur(), new MigrationStats(1, 1, 1), r));
    run(vm, r -> new SuspendVm("vm.state", USER, r));
    assertEquals("vm.state", ((AgentCommand.SuspendVm) link.last(id, "node-b")).file());
    run(vm, r -> new ReportSuspended(cur(), 1, r));
    run(vm, r -> new ResumeVm(A, USER, r));
    assertEquals("vm.state", ((AgentCommand.ResumeVm) link.last(id, "node-a")).file());
    run(vm, r -> new ReportResumed(cur(), r));
    run(vm, r -> new StopVm(USER, r));
    assertInstanceOf(AgentCommand.StopVm.class, link.last(id, "node-a"));
  }

  @Test
  void leavingATimeslotGivesItsRoomBack() {
    var vm = at(VmState.Running.class);
    String id = vm.getState().vmId();
    run(vm, r -> new MigrateVm(B, USER, r));
    assertFalse(freed.contains(id + "@slot-a"), "not while migrating");
    run(vm, r -> new ReportMigrated(cur(), new MigrationStats(1, 1, 1), r));
    assertTrue(freed.contains(id + "@slot-a"), freed.toString());
    run(vm, r -> new MigrateVm(A, USER, r));
    run(vm, r -> new ReportMigrationFailed(cur(), "post-copy failed", true, r));
    assertInstanceOf(VmState.Failed.class, vm.getState());
    assertTrue(freed.contains(id + "@slot-b"), "a failed VM holds no room: " + freed);
  }

  @Test
  void aRecoveredEntityResendsTheWorkInFlight() {
    var vm = at(VmState.Migrating.class);
    String id = vm.getState().vmId();
    int before = link.count(id);
    vm.restart();
    testKit.createTestProbe().awaitAssert(() -> {
      assertEquals(before + 1, link.count(id));
      return null;
    });
    assertInstanceOf(AgentCommand.MigrateVm.class, link.last(id, "node-a"));
  }

  @Test
  void aNodeWithoutAgentFailsTheStepWithTheReason() {
    var vm = vm();
    run(vm, r -> new CreateVm(SPEC, USER, r));
    // Not through run(): the failure is reported back at once, so the state moves past the reply.
    vm.<StatusReply<VmState>>runCommand(r -> new PlaceVm(new Placement("slot-x", RecordingLink.GONE), USER, r));
    testKit.createTestProbe().awaitAssert(() -> {
      VmState state = vm.getState();
      assertInstanceOf(VmState.Failed.class, state);
      assertTrue(((VmState.Failed) state).reason().contains("no agent"), ((VmState.Failed) state).reason());
      return null;
    });
  }

  @AfterAll
  void everyEventTypeWasPersistedBySomeTest() {
    Set<Class<?>> all = Set.of(VmEvent.class.getPermittedSubclasses());
    Set<Class<?>> missing = new HashSet<>(all);
    missing.removeAll(persisted);
    assertEquals(Set.of(), missing, "event types no test persisted");
  }
}
