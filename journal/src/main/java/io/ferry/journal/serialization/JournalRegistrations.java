package io.ferry.journal.serialization;

import static io.ferry.journal.serialization.KryoRegistrations.Entry.of;

import io.ferry.journal.Cause;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.agent.IncomingReply;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.node.NodeCapacity;
import io.ferry.journal.node.NodeEvent;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmFacts;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.util.List;

/**
 * Kryo ids of the journal module's types (range 100–999). Ids are stored in the journal: never
 * change or reuse one. Add new types at the end of their block.
 */
public final class JournalRegistrations implements KryoRegistrations {
  @Override
  public List<Entry> entries() {
    return List.of(
        of(100, Cause.class),
        of(101, Cause.Kind.class),

        // VM values 200–229, events 230–269, states 270–299
        of(200, Flavour.class),
        of(201, VmMode.class),
        of(202, VmSpec.class),
        of(203, Placement.class),
        of(204, MigrationStats.class),
        of(205, VmFacts.class),
        of(230, VmEvent.VmRequested.class),
        of(231, VmEvent.VmPlaced.class),
        of(232, VmEvent.VmStarting.class),
        of(233, VmEvent.VmStarted.class),
        of(234, VmEvent.VmMigrationStarted.class),
        of(235, VmEvent.VmMigrated.class),
        of(236, VmEvent.VmMigrationFailed.class),
        of(237, VmEvent.VmSuspendStarted.class),
        of(238, VmEvent.VmSuspended.class),
        of(239, VmEvent.VmSuspendFailed.class),
        of(240, VmEvent.VmResumeStarted.class),
        of(241, VmEvent.VmResumed.class),
        of(242, VmEvent.VmResumeFailed.class),
        of(243, VmEvent.VmStopRequested.class),
        of(244, VmEvent.VmStopped.class),
        of(245, VmEvent.VmFailed.class),
        of(246, VmEvent.VmLost.class),
        of(247, VmEvent.VmDeleted.class),
        of(270, VmState.Empty.class),
        of(271, VmState.Requested.class),
        of(272, VmState.Placed.class),
        of(273, VmState.Starting.class),
        of(274, VmState.Running.class),
        of(275, VmState.Migrating.class),
        of(276, VmState.Suspending.class),
        of(277, VmState.Suspended.class),
        of(278, VmState.Resuming.class),
        of(279, VmState.Stopping.class),
        of(280, VmState.Stopped.class),
        of(281, VmState.Failed.class),
        of(282, VmState.Lost.class),
        of(283, VmState.Deleted.class),

        // Timeslot values 300–329, events 330–369, states 370–399
        of(300, TimeslotRequest.class),
        of(301, Reservation.class),
        of(302, TimeslotState.TimeslotFacts.class),
        of(330, TimeslotEvent.TimeslotRequested.class),
        of(331, TimeslotEvent.TimeslotSubmitted.class),
        of(332, TimeslotEvent.TimeslotActivated.class),
        of(333, TimeslotEvent.TimeslotEndChanged.class),
        of(334, TimeslotEvent.TimeslotExpiring.class),
        of(335, TimeslotEvent.TimeslotExpired.class),
        of(336, TimeslotEvent.TimeslotReleased.class),
        of(337, TimeslotEvent.TimeslotCancelled.class),
        of(338, TimeslotEvent.TimeslotFailed.class),
        of(339, TimeslotEvent.CapacityReserved.class),
        of(340, TimeslotEvent.CapacityFreed.class),
        of(370, TimeslotState.Empty.class),
        of(371, TimeslotState.Requested.class),
        of(372, TimeslotState.Pending.class),
        of(373, TimeslotState.Active.class),
        of(374, TimeslotState.Expiring.class),
        of(375, TimeslotState.Expired.class),
        of(376, TimeslotState.Released.class),
        of(377, TimeslotState.Cancelled.class),
        of(378, TimeslotState.Failed.class),

        // Node values 400–429, events 430–469, states 470–499
        of(400, NodeCapacity.class),
        of(401, NodeState.NodeFacts.class),
        of(430, NodeEvent.NodeJoined.class),
        of(431, NodeEvent.NodeUnreachable.class),
        of(432, NodeEvent.NodeReachable.class),
        of(433, NodeEvent.NodeLost.class),
        of(434, NodeEvent.NodeLeft.class),
        of(435, NodeEvent.NodeFenced.class),
        of(470, NodeState.Empty.class),
        of(471, NodeState.Joined.class),
        of(472, NodeState.Unreachable.class),
        of(473, NodeState.Lost.class),
        of(474, NodeState.Left.class),
        of(475, NodeState.Fenced.class),

        // Agent protocol 500–599 (crosses the wire, not persisted except MigrationSettings)
        of(500, MigrationSettings.class),
        of(501, MigrationProgress.class),
        of(510, AgentCommand.StartVm.class),
        of(511, AgentCommand.MigrateVm.class),
        of(512, AgentCommand.SuspendVm.class),
        of(513, AgentCommand.ResumeVm.class),
        of(514, AgentCommand.StopVm.class),
        of(515, AgentCommand.PrepareIncoming.class),
        of(516, AgentCommand.ConfirmIncoming.class),
        of(517, AgentCommand.AbortIncoming.class),
        of(530, IncomingReply.Ready.class),
        of(531, IncomingReply.Confirmed.class),
        of(532, IncomingReply.Failed.class),
        of(540, AgentReport.RegisterAgent.class),
        of(541, AgentReport.Registered.class),
        of(542, AgentReport.Starting.class),
        of(543, AgentReport.Started.class),
        of(544, AgentReport.StartFailed.class),
        of(545, AgentReport.Migrated.class),
        of(546, AgentReport.MigrationFailed.class),
        of(547, AgentReport.Suspended.class),
        of(548, AgentReport.SuspendFailed.class),
        of(549, AgentReport.Resumed.class),
        of(550, AgentReport.ResumeFailed.class),
        of(551, AgentReport.Stopped.class),
        of(552, AgentReport.StopFailed.class),
        of(553, AgentReport.TimeslotWarning.class),
        of(554, AgentCommand.AttachVm.class),
        of(555, AgentReport.Attached.class),
        of(556, AgentReport.NotRunning.class),
        of(557, AgentReport.Exited.class),
        of(600, io.ferry.journal.policy.PolicyEvent.PolicyApplied.class),
        of(601, io.ferry.journal.policy.PolicyEvent.PolicyDeleted.class),
        of(602, io.ferry.journal.policy.PolicyEvent.PolicyDecided.class),
        of(603, io.ferry.journal.policy.PolicyEvent.PolicyFailed.class),
        of(610, io.ferry.journal.policy.PolicyState.PolicyFacts.class),
        of(611, io.ferry.journal.policy.PolicyState.Empty.class),
        of(612, io.ferry.journal.policy.PolicyState.Active.class),
        of(613, io.ferry.journal.policy.PolicyState.Deleted.class));
  }
}
