package io.ferry.controlplane;

import static io.ferry.journal.serialization.KryoRegistrations.Entry.of;

import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.serialization.KryoRegistrations;
import java.util.List;

/**
 * Kryo ids of the control plane's messages (range 1000–1999). Commands cross the wire between
 * members through sharding. Ids are permanent: never change or reuse one.
 */
public final class ControlPlaneRegistrations implements KryoRegistrations {
  @Override
  public List<Entry> entries() {
    return List.of(
        // Vm commands 1000–1099
        of(1000, Vm.CreateVm.class),
        of(1001, Vm.PlaceVm.class),
        of(1002, Vm.ReportStarting.class),
        of(1003, Vm.ReportStarted.class),
        of(1004, Vm.MigrateVm.class),
        of(1005, Vm.ReportMigrated.class),
        of(1006, Vm.ReportMigrationFailed.class),
        of(1007, Vm.SuspendVm.class),
        of(1008, Vm.ReportSuspended.class),
        of(1009, Vm.ReportSuspendFailed.class),
        of(1010, Vm.ResumeVm.class),
        of(1011, Vm.ReportResumed.class),
        of(1012, Vm.ReportResumeFailed.class),
        of(1013, Vm.StopVm.class),
        of(1014, Vm.ReportStopped.class),
        of(1015, Vm.ReportFailed.class),
        of(1016, Vm.ReportLost.class),
        of(1017, Vm.DeleteVm.class),
        of(1018, Vm.GetVm.class),
        of(1019, Vm.ReportExited.class),
        of(1020, Vm.Redrive.class),
        // Timeslot commands 1100–1199
        of(1100, Timeslot.RequestTimeslot.class),
        of(1101, Timeslot.RecordSubmitted.class),
        of(1102, Timeslot.Activate.class),
        of(1103, Timeslot.ChangeEnd.class),
        of(1104, Timeslot.MarkExpiring.class),
        of(1105, Timeslot.MarkExpired.class),
        of(1106, Timeslot.ReleaseTimeslot.class),
        of(1107, Timeslot.FailTimeslot.class),
        of(1108, Timeslot.ReserveCapacity.class),
        of(1109, Timeslot.FreeCapacity.class),
        of(1110, Timeslot.GetTimeslot.class),
        // Node commands 1200–1299
        of(1200, Node.RegisterNode.class),
        of(1201, Node.MarkUnreachable.class),
        of(1202, Node.MarkReachable.class),
        of(1203, Node.MarkLost.class),
        of(1204, Node.MarkLeft.class),
        of(1205, Node.MarkFenced.class),
        of(1206, Node.GetNode.class),
        of(1300, io.ferry.controlplane.entity.Policy.ApplyPolicy.class),
        of(1301, io.ferry.controlplane.entity.Policy.DeletePolicy.class),
        of(1302, io.ferry.controlplane.entity.Policy.GetPolicy.class),
        of(1303, io.ferry.controlplane.entity.Policy.RecordDecision.class),
        of(1304, io.ferry.controlplane.entity.Policy.RecordFailure.class));
  }
}
