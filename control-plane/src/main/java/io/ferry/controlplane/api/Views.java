package io.ferry.controlplane.api;

import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** What the API shows of entities: its own records, so domain types never leak onto the wire. */
public final class Views {
  private Views() {}

  public record VmView(String id, String owner, String stage, String flavour, int vcpus, int memoryMiB, String image,
      String mode, String timeslot, String node, String migratingTo, String lastImage, String reason) {}

  public record TimeslotView(String id, String owner, String stage, String backend, String jobId, String node,
      int cores, int memoryMiB, int freeCores, int freeMemoryMiB, Duration walltime, String partition,
      Instant start, Instant end, List<String> vms) {}

  public record NodeView(String id, String stage, String hostname, int cores, int memoryMiB, Set<String> capabilities,
      String agent) {}

  public static VmView vm(VmState s) {
    var f = s.facts();
    var spec = f.spec();
    String migratingTo = s instanceof VmState.Migrating m ? m.target().nodeId() : null;
    String reason = s instanceof VmState.Failed failed ? failed.reason() : s instanceof VmState.Lost lost ? lost.reason() : null;
    return new VmView(f.vmId(), spec.owner(), s.stage(), spec.flavour().name(), spec.flavour().vcpus(),
        spec.flavour().memoryMiB(), spec.image(), spec.mode().name().toLowerCase(),
        f.placement() == null ? null : f.placement().timeslotId(), f.placement() == null ? null : f.placement().nodeId(),
        migratingTo, f.lastImage(), reason);
  }

  public static TimeslotView timeslot(TimeslotState s) {
    var f = s.facts();
    var r = f.request();
    return new TimeslotView(f.timeslotId(), f.owner(), s.stage(), f.backend(), f.jobId(), f.nodeId(), r.cores(),
        r.memoryMiB(), f.freeCores(), f.freeMemoryMiB(), r.walltime(), r.partition(), f.start(), f.end(),
        List.copyOf(new TreeSet<>(f.reservations().keySet())));
  }

  public static NodeView node(NodeState s) {
    var f = s.facts();
    var c = f.capacity();
    return new NodeView(f.nodeId(), s.stage(), f.hostname(), c == null ? 0 : c.cores(), c == null ? 0 : c.memoryMiB(),
        c == null ? Set.of() : new TreeSet<>(c.capabilities()), f.agentAddress());
  }
}
