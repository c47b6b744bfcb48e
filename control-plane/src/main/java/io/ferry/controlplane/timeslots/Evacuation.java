package io.ferry.controlplane.timeslots;

import com.typesafe.config.Config;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in evacuation policy, run by the {@link TimeslotKeeper} every tick:
 * <ul>
 *   <li>a running dynamic VM on an expiring timeslot migrates live to the owner's active timeslot
 *       with room and the most time left, if the migration is estimated (memory ÷ bandwidth) to end
 *       before the expiring timeslot's end minus a safety margin, with at most N migrations
 *       leaving a node at once; otherwise it is suspended to shared storage and a replacement
 *       timeslot is requested;
 *   <li>a static VM stops with its timeslot;
 *   <li>a suspended dynamic VM resumes on the owner's active timeslot with room and time.
 * </ul>
 * Every decision is made through the entities, so their rules still apply (a reservation that no
 * longer fits is refused, and the next tick decides again).
 */
public final class Evacuation {
  private static final Logger log = LoggerFactory.getLogger(Evacuation.class);
  private static final Duration IN_FLIGHT = Duration.ofSeconds(30);
  static final String POLICY = "built-in evacuation v1";

  private final Catalog catalog;
  private final Entities entities;
  private final Clock clock;
  private final EvacuationPlanner.Params params;
  /** VMs acted on recently, whose new stage may not be in the catalog yet. */
  private final Map<String, Instant> acted = new HashMap<>();

  public Evacuation(Catalog catalog, Entities entities, Clock clock, Duration warningLead, Config config) {
    this.catalog = catalog;
    this.entities = entities;
    this.clock = clock;
    Config c = config.getConfig("ferry.timeslots.evacuation");
    this.params = new EvacuationPlanner.Params(warningLead, c.getBytes("assumed-bandwidth"), c.getDuration("safety-margin"),
        c.getInt("parallel-per-node"));
  }

  void tick() {
    Instant now = clock.instant();
    acted.values().removeIf(t -> t.plus(IN_FLIGHT).isBefore(now));
    List<VmState> vms = catalog.vms(null);
    List<TimeslotState> slots = catalog.timeslots(null);
    Map<String, Integer> leaving = new HashMap<>();
    for (VmState vm : vms) {
      if (vm instanceof VmState.Migrating) leaving.merge(vm.facts().placement().nodeId(), 1, Integer::sum);
    }
    for (TimeslotState slot : slots) {
      if (!(slot instanceof TimeslotState.Expiring)) continue;
      for (VmState vm : vms) {
        var p = vm.facts().placement();
        if (!(vm instanceof VmState.Running) || p == null || !p.timeslotId().equals(slot.facts().timeslotId())) continue;
        if (acted.containsKey(vm.vmId())) continue;
        evacuate(vm, slot, slots, leaving, now);
      }
    }
    for (VmState vm : vms) {
      if (vm instanceof VmState.Suspended && vm.facts().lastImage() != null && vm.facts().spec().mode() == VmMode.DYNAMIC
          && !acted.containsKey(vm.vmId())) {
        EvacuationPlanner.target(vm, null, slots, now, Duration.ofSeconds(5), params).ifPresent(t -> resume(vm, t));
      }
    }
  }

  private void evacuate(VmState vm, TimeslotState slot, List<TimeslotState> slots, Map<String, Integer> leaving, Instant now) {
    String slotId = slot.facts().timeslotId();
    String source = vm.facts().placement().nodeId();
    EvacuationPlanner.Step step = EvacuationPlanner.decide(vm, slot, slots, leaving.getOrDefault(source, 0), now, params);
    if (step instanceof EvacuationPlanner.Step.Stop stop) {
      acted.put(vm.vmId(), now);
      entities.vm(vm.vmId(), r -> new Vm.StopVm(new Cause(Cause.Kind.TIMESLOT_EXPIRY, slotId, POLICY + ": " + stop.reason()), r));
    } else if (step instanceof EvacuationPlanner.Step.Migrate m) {
      leaving.merge(source, 1, Integer::sum);
      migrate(vm, slot, m.target(), m.deadline(), m.estimate());
    } else if (step instanceof EvacuationPlanner.Step.Suspend s) {
      suspend(vm, slot, s.reason());
    }
  }

  private void migrate(VmState vm, TimeslotState from, TimeslotState to, Duration left, Duration estimate) {
    String vmId = vm.vmId();
    var spec = vm.facts().spec();
    var t = to.facts();
    acted.put(vmId, clock.instant());
    Cause cause = new Cause(Cause.Kind.TIMESLOT_EXPIRY, from.facts().timeslotId(), POLICY + ": migrate to " + t.timeslotId()
        + " (most time left; estimated " + estimate.toSeconds() + " s, " + left.toSeconds() + " s before the hard end)");
    MigrationSettings settings = new MigrationSettings(MigrationSettings.DEFAULT.maxBandwidthBytesPerSec(),
        MigrationSettings.DEFAULT.downtimeLimitMs(), false, true, left);
    entities.timeslot(t.timeslotId(), r -> new Timeslot.ReserveCapacity(new Reservation(vmId, spec.flavour().vcpus(), spec.flavour().memoryMiB()), r))
        .thenCompose(s -> entities.vm(vmId, r -> new Vm.MigrateVm(new Placement(t.timeslotId(), t.nodeId()), settings, null, cause, r)))
        .whenComplete((s, e) -> {
          if (e != null) {
            log.info("VM {}: migration to {} not started: {}", vmId, t.timeslotId(), e.getMessage());
            entities.timeslot(t.timeslotId(), r -> new Timeslot.FreeCapacity(vmId, r));
            acted.remove(vmId);
          }
        });
  }

  private void suspend(VmState vm, TimeslotState slot, String why) {
    String vmId = vm.vmId();
    var f = slot.facts();
    acted.put(vmId, clock.instant());
    Cause cause = new Cause(Cause.Kind.TIMESLOT_EXPIRY, f.timeslotId(), POLICY + ": suspend, because " + why);
    entities.vm(vmId, r -> new Vm.SuspendVm(vmId + "-" + clock.millis() + ".state", cause, r))
        .whenComplete((s, e) -> {
          if (e != null) log.info("VM {}: suspend not started: {}", vmId, e.getMessage());
        });
    boolean waiting = catalog.timeslots(f.owner()).stream()
        .anyMatch(s -> s instanceof TimeslotState.Requested || s instanceof TimeslotState.Pending);
    if (!waiting) {
      String replacement = "ts-" + java.util.UUID.randomUUID().toString().substring(0, 8);
      entities.timeslot(replacement, r -> new Timeslot.RequestTimeslot(f.owner(), f.request(), f.backend(),
          Cause.policy(POLICY, "a new timeslot for VM " + vmId + ", suspended when " + f.timeslotId() + " expired"), r));
    }
  }

  private void resume(VmState vm, TimeslotState to) {
    String vmId = vm.vmId();
    var spec = vm.facts().spec();
    var t = to.facts();
    acted.put(vmId, clock.instant());
    Cause cause = Cause.policy(POLICY, "resume on " + t.timeslotId() + ", active with room and time");
    entities.timeslot(t.timeslotId(), r -> new Timeslot.ReserveCapacity(new Reservation(vmId, spec.flavour().vcpus(), spec.flavour().memoryMiB()), r))
        .thenCompose(s -> entities.vm(vmId, r -> new Vm.ResumeVm(new Placement(t.timeslotId(), t.nodeId()), cause, r)))
        .whenComplete((s, e) -> {
          if (e != null) {
            log.info("VM {}: resume on {} not started: {}", vmId, t.timeslotId(), e.getMessage());
            entities.timeslot(t.timeslotId(), r -> new Timeslot.FreeCapacity(vmId, r));
            acted.remove(vmId);
          }
        });
  }
}
