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
import java.util.Set;
import java.util.stream.Collectors;
import io.ferry.journal.node.NodeState;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
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
 *   <li>a suspended dynamic VM resumes on the owner's active timeslot with room and time, unless
 *       its user suspended it ({@link #resumesByItself});
 *   <li>a VM still recorded on a timeslot whose job has ended (killed before its warning, say) is
 *       lost with the job's processes: it is declared {@code Lost};
 *   <li>a lost dynamic VM is restarted on the owner's active timeslot with room: cold-booted from
 *       its overlay (its disk), or, with {@code ferry.timeslots.lost-restart = last-image}, resumed
 *       from its last suspend image; a lost static VM is stopped (it lived with its job).
 * </ul>
 * Migration estimates use the rate measured on recent migrations ({@link MigrationRates}), or the
 * assumed bandwidth before any was measured.
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
  private final EvacuationPlanner.Params assumed;
  private final boolean restartFromImage;
  private final PolicyRunner policies;
  private final String defaultBackend;
  /**
   * VMs acted on recently, whose new stage may not be in the catalog yet. Concurrent: ask
   * completions remove entries from other threads while a tick iterates.
   */
  private final Map<String, Instant> acted = new java.util.concurrent.ConcurrentHashMap<>();
  /**
   * VMs being declared lost because their job ended, apart from {@link #acted}: a VM just
   * migrated by the evacuation (in {@code acted} for {@link #IN_FLIGHT}) whose new job ends at once
   * must be declared lost at once, not 30 s later (found by ops/chaos).
   */
  private final Map<String, Instant> declaring = new java.util.concurrent.ConcurrentHashMap<>();
  private static final Duration DECLARING = Duration.ofSeconds(10);

  public Evacuation(Catalog catalog, Entities entities, Clock clock, Duration warningLead, Config config) {
    this(catalog, entities, clock, warningLead, config, io.ferry.controlplane.metrics.ControlMetrics.PolicyRuns.NONE);
  }

  /** As above, telling {@code policyRuns} of every policy script it runs. */
  public Evacuation(Catalog catalog, Entities entities, Clock clock, Duration warningLead, Config config,
      io.ferry.controlplane.metrics.ControlMetrics.PolicyRuns policyRuns) {
    this.catalog = catalog;
    this.entities = entities;
    this.clock = clock;
    Config c = config.getConfig("ferry.timeslots.evacuation");
    this.assumed = new EvacuationPlanner.Params(warningLead, c.getBytes("assumed-bandwidth"), c.getDuration("safety-margin"),
        c.getInt("parallel-per-node"));
    String restart = config.getString("ferry.timeslots.lost-restart");
    if (!restart.equals("cold-boot") && !restart.equals("last-image")) {
      throw new IllegalArgumentException("ferry.timeslots.lost-restart is \"" + restart + "\"; use cold-boot or last-image");
    }
    this.restartFromImage = restart.equals("last-image");
    io.ferry.policies.PolicyEngine engine = new io.ferry.policies.PolicyEngine(io.ferry.policies.PolicyEngine.Limits.of(config));
    this.policies = new PolicyRunner(catalog, entities, engine, this::applyPolicyAction, policyRuns);
    this.defaultBackend = config.getString("ferry.api.default-backend");
  }

  /** The planner's parameters, with the migration rate measured so far if there is one. */
  EvacuationPlanner.Params params() {
    var rate = catalog.migrationRates().bytesPerSecond();
    return rate.isEmpty() ? assumed
        : new EvacuationPlanner.Params(assumed.warningLead(), rate.getAsLong(), assumed.safety(), assumed.parallelPerNode());
  }

  void tick() {
    Instant now = clock.instant();
    acted.values().removeIf(t -> t.plus(IN_FLIGHT).isBefore(now));
    declaring.values().removeIf(t -> t.plus(DECLARING).isBefore(now));
    List<VmState> vms = catalog.vms(null);
    // timeslots whose node's agent is not in the cluster (unreachable, lost) take no VMs
    Set<String> gone = catalog.nodes().stream().filter(n -> !(n instanceof NodeState.Joined))
        .map(n -> n.facts().nodeId()).collect(Collectors.toSet());
    List<TimeslotState> slots = catalog.timeslots(null).stream()
        .filter(s -> !(s instanceof TimeslotState.Active) || s.facts().nodeId() == null || !gone.contains(s.facts().nodeId()))
        .collect(Collectors.toList());
    EvacuationPlanner.Params params = params();
    policies.tick(vms, slots, params, now); // users' policies first; the built-in takes care of the rest
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
        evacuate(vm, slot, slots, leaving, now, params);
      }
    }
    for (VmState vm : vms) {
      if (resumesByItself(vm, catalog.lastSuspendCause(vm.vmId())) && !acted.containsKey(vm.vmId())) {
        EvacuationPlanner.target(vm, null, slots, now, Duration.ofSeconds(5), params).ifPresent(t -> resume(vm, t));
      }
    }
    declareLostWithEndedJobs(vms, slots);
    for (VmState vm : vms) {
      if (vm instanceof VmState.Lost lost && !acted.containsKey(vm.vmId())) restartLost(lost, slots, now, params);
    }
  }

  /**
   * Whether the built-in evacuation resumes a suspended VM once a timeslot has room: a dynamic VM
   * suspended by an expiry or by a policy, not one its user suspended (that one stays suspended
   * until they resume it), nor a VM whose suspend is unknown to the catalog.
   */
  static boolean resumesByItself(VmState vm, Cause suspendedFor) {
    return vm instanceof VmState.Suspended && vm.facts().lastImage() != null && vm.facts().spec().mode() == VmMode.DYNAMIC
        && suspendedFor != null && suspendedFor.kind() != Cause.Kind.USER;
  }

  /** VMs whose QEMU ran in a job that has ended went with the job's processes. */
  private void declareLostWithEndedJobs(List<VmState> vms, List<TimeslotState> slots) {
    Map<String, TimeslotState> byId = new HashMap<>();
    slots.forEach(s -> byId.put(s.facts().timeslotId(), s));
    for (VmState vm : vms) {
      var p = vm.facts().placement();
      boolean hasQemu = !(vm instanceof VmState.Placed || vm instanceof VmState.Failed);
      TimeslotState slot = p == null ? null : byId.get(p.timeslotId());
      boolean ended = slot instanceof TimeslotState.Expired || slot instanceof TimeslotState.Failed
          || slot instanceof TimeslotState.Released || slot instanceof TimeslotState.Cancelled;
      if (!hasQemu || !ended || declaring.containsKey(vm.vmId())) continue;
      declaring.put(vm.vmId(), clock.instant());
      log.warn("VM {} is still recorded on timeslot {}, whose job has ended ({}): declaring it lost", vm.vmId(),
          p.timeslotId(), slot.stage());
      entities.vm(vm.vmId(), r -> new Vm.ReportLost(p.nodeId(), "its timeslot " + p.timeslotId() + "'s job has ended ("
          + slot.stage() + "), and its QEMU with it", r)).whenComplete((s, e) -> {
        if (e != null) {
          log.info("VM {}: not declared lost yet: {}", vm.vmId(), e.getMessage());
          declaring.remove(vm.vmId()); // again at the next tick
        } else if (s instanceof VmState.Lost) {
          acted.remove(vm.vmId()); // restarted as soon as the catalog shows it Lost
        }
      });
    }
  }

  private void restartLost(VmState.Lost vm, List<TimeslotState> slots, Instant now, EvacuationPlanner.Params params) {
    String vmId = vm.vmId();
    if (vm.facts().spec().mode() == VmMode.STATIC) {
      acted.put(vmId, clock.instant());
      entities.vm(vmId, r -> new Vm.StopVm(Cause.policy(POLICY, "a static VM whose node " + vm.lostNodeId()
          + " was lost ends with it"), r)).whenComplete(Entities.logFailure(log, "stopping static VM " + vmId + " of a lost node"));
      return;
    }
    var target = EvacuationPlanner.target(vm, null, slots, now, Duration.ofSeconds(5), params);
    if (target.isEmpty()) return; // the next tick looks again; the suspend path requests timeslots
    var t = target.get().facts();
    boolean fromImage = restartFromImage && vm.facts().lastImage() != null;
    Cause cause = Cause.policy(POLICY, "restart on " + t.timeslotId() + " after node " + vm.lostNodeId() + " was lost ("
        + (fromImage ? "resumed from its last suspend image" : "cold boot from its disk") + ")");
    Placement to = new Placement(t.timeslotId(), t.nodeId());
    reserveThen(vm, t, "restart on " + t.timeslotId(), r -> fromImage ? new Vm.ResumeVm(to, cause, r) : new Vm.PlaceVm(to, cause, r));
  }

  private void evacuate(VmState vm, TimeslotState slot, List<TimeslotState> slots, Map<String, Integer> leaving, Instant now,
      EvacuationPlanner.Params params) {
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
    var t = to.facts();
    Cause cause = new Cause(Cause.Kind.TIMESLOT_EXPIRY, from.facts().timeslotId(), POLICY + ": migrate to " + t.timeslotId()
        + " (most time left; estimated " + estimate.toSeconds() + " s, " + left.toSeconds() + " s before the hard end)");
    MigrationSettings settings = new MigrationSettings(MigrationSettings.DEFAULT.maxBandwidthBytesPerSec(),
        MigrationSettings.DEFAULT.downtimeLimitMs(), false, true, left);
    reserveThen(vm, t, "migration to " + t.timeslotId(),
        r -> new Vm.MigrateVm(new Placement(t.timeslotId(), t.nodeId()), settings, null, cause, r));
  }

  private void suspend(VmState vm, TimeslotState slot, String why) {
    String vmId = vm.vmId();
    var f = slot.facts();
    acted.put(vmId, clock.instant());
    Cause cause = new Cause(Cause.Kind.TIMESLOT_EXPIRY, f.timeslotId(), POLICY + ": suspend, because " + why);
    entities.vm(vmId, r -> new Vm.SuspendVm(vmId + "-" + clock.millis() + ".state", cause, r))
        .whenComplete((s, e) -> {
          if (e != null) {
            log.info("VM {}: suspend not started: {}", vmId, e.getMessage());
            acted.remove(vmId); // decided again at the next tick
          } else {
            requestReplacement(vmId, f); // only for a suspend that began: one refused or timed out asks for no job
          }
        });
  }

  /** Asks for a timeslot like the expiring one for a VM suspended off it, unless one of the owner's is on its way. */
  private void requestReplacement(String vmId, TimeslotState.TimeslotFacts f) {
    boolean waiting = catalog.timeslots(f.owner()).stream()
        .anyMatch(s -> s instanceof TimeslotState.Requested || s instanceof TimeslotState.Pending);
    if (waiting) return;
    String replacement = "ts-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    entities.timeslot(replacement, r -> new Timeslot.RequestTimeslot(f.owner(), f.request(), f.backend(),
        Cause.policy(POLICY, "a new timeslot for VM " + vmId + ", suspended when " + f.timeslotId() + " expired"), r))
        .whenComplete(Entities.logFailure(log, "requesting a timeslot for suspended VM " + vmId));
  }

  private void resume(VmState vm, TimeslotState to) {
    var t = to.facts();
    Cause cause = Cause.policy(POLICY, "resume on " + t.timeslotId() + ", active with room and time");
    reserveThen(vm, t, "resume on " + t.timeslotId(), r -> new Vm.ResumeVm(new Placement(t.timeslotId(), t.nodeId()), cause, r));
  }

  /**
   * Reserves the VM's room on timeslot {@code t}, then sends the VM {@code command}; if either is
   * refused, the room is given back and the VM may be decided on again at the next tick.
   */
  private void reserveThen(VmState vm, TimeslotState.TimeslotFacts t, String what,
      Function<ActorRef<StatusReply<VmState>>, Vm.Command> command) {
    String vmId = vm.vmId();
    var spec = vm.facts().spec();
    acted.put(vmId, clock.instant());
    entities.timeslot(t.timeslotId(), r -> new Timeslot.ReserveCapacity(new Reservation(vmId, spec.flavour().vcpus(), spec.flavour().memoryMiB()), r))
        .thenCompose(s -> entities.vm(vmId, command))
        .whenComplete((s, e) -> {
          if (e != null) {
            log.info("VM {}: {} not started: {}", vmId, what, e.getMessage());
            entities.timeslot(t.timeslotId(), r -> new Timeslot.FreeCapacity(vmId, r));
            acted.remove(vmId);
          }
        });
  }

  /** Carries out what a user's policy asked for (already checked by the deadline rules). */
  private void applyPolicyAction(io.ferry.policies.PolicyAction a, String owner, String actor, String detail) {
    Cause cause = Cause.policy(actor, detail);
    Instant now = clock.instant();
    java.util.function.Function<String, VmState> vmOf = id -> catalog.vms(owner).stream().filter(v -> v.vmId().equals(id)).findFirst().orElseThrow();
    java.util.function.Function<String, TimeslotState> slotOf = id -> catalog.timeslots(owner).stream()
        .filter(t -> t.facts().timeslotId().equals(id)).findFirst().orElseThrow();
    if (a instanceof io.ferry.policies.PolicyAction.Migrate m) {
      VmState vm = vmOf.apply(m.vmId());
      var to = slotOf.apply(m.timeslotId()).facts();
      TimeslotState from = slotOf.apply(vm.facts().placement().timeslotId());
      Duration left = from.facts().end() == null ? Duration.ofMinutes(10)
          : Duration.between(now, from.facts().end().minus(assumed.safety()));
      MigrationSettings settings = new MigrationSettings(MigrationSettings.DEFAULT.maxBandwidthBytesPerSec(),
          MigrationSettings.DEFAULT.downtimeLimitMs(), false, true, left.isNegative() ? Duration.ofSeconds(1) : left);
      reserveThen(vm, to, "policy migration to " + to.timeslotId(),
          r -> new Vm.MigrateVm(new Placement(to.timeslotId(), to.nodeId()), settings, null, cause, r));
    } else if (a instanceof io.ferry.policies.PolicyAction.Resume r0) {
      var to = slotOf.apply(r0.timeslotId()).facts();
      reserveThen(vmOf.apply(r0.vmId()), to, "policy resume on " + to.timeslotId(),
          r -> new Vm.ResumeVm(new Placement(to.timeslotId(), to.nodeId()), cause, r));
    } else if (a instanceof io.ferry.policies.PolicyAction.Suspend s) {
      acted.put(s.vmId(), now);
      entities.vm(s.vmId(), r -> new Vm.SuspendVm(s.vmId() + "-" + clock.millis() + ".state", cause, r)).whenComplete((x, e) -> {
        if (e != null) acted.remove(s.vmId());
      });
    } else if (a instanceof io.ferry.policies.PolicyAction.Stop s) {
      acted.put(s.vmId(), now);
      entities.vm(s.vmId(), r -> new Vm.StopVm(cause, r)).whenComplete((x, e) -> {
        if (e != null) acted.remove(s.vmId());
      });
    } else if (a instanceof io.ferry.policies.PolicyAction.RequestTimeslot t) {
      String backend = catalog.timeslots(owner).stream().map(s -> s.facts().backend()).filter(java.util.Objects::nonNull)
          .reduce((x, y) -> y).orElse(defaultBackend);
      String id = "ts-" + java.util.UUID.randomUUID().toString().substring(0, 8);
      entities.timeslot(id, r -> new Timeslot.RequestTimeslot(owner, new io.ferry.journal.timeslot.TimeslotRequest(t.cores(), t.memoryMiB(),
          Duration.ofSeconds(t.walltimeSeconds()), t.partition()), backend, cause, r)).whenComplete((x, e) -> {
            if (e != null) log.info("policy timeslot request not taken: {}", e.getMessage());
          });
    } else if (a instanceof io.ferry.policies.PolicyAction.Release rel) {
      entities.timeslot(rel.timeslotId(), r -> new Timeslot.ReleaseTimeslot(cause, r)).whenComplete(Entities.logFailure(log, "releasing timeslot " + rel.timeslotId() + " for a policy"));
    }
  }
}
