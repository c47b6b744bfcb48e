package io.ferry.controlplane.timeslots;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.entity.Policy;
import io.ferry.journal.policy.PolicyState;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmState;
import io.ferry.policies.DeadlineRules;
import io.ferry.policies.PolicyAction;
import io.ferry.policies.PolicyEngine;
import io.ferry.policies.PolicyView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs users' policy scripts on what happens to their timeslots and VMs, before the built-in
 * evacuation decides: {@code timeslot.expiring}, {@code timeslot.active}, {@code timeslot.ended},
 * {@code vm.state} (a VM changed stage; {@code Lost} when its node was lost). Each of the owner's
 * active policies sees the event and the owner's view; what it asks for is checked by the deadline
 * rules, accepted actions are carried out (their cause names the policy, its version and the
 * script line), and the decision is journaled on the policy with each action's outcome. A script
 * that fails is journaled as {@code PolicyFailed}; whatever no accepted action took care of is left
 * to the built-in evacuation in the same tick, so a failing policy never stalls an evacuation.
 */
final class PolicyRunner {
  private static final Logger log = LoggerFactory.getLogger(PolicyRunner.class);

  /** Carries out an accepted action, with {@code actor} and {@code detail} as its cause. */
  interface Actions {
    void apply(PolicyAction action, String owner, String cause, String detail);
  }

  private final Catalog catalog;
  private final Entities entities;
  private final PolicyEngine engine;
  private final Actions actions;
  private final Map<String, String> lastStage = new HashMap<>();
  private boolean primed;

  private final io.ferry.controlplane.metrics.ControlMetrics.PolicyRuns runs;

  PolicyRunner(Catalog catalog, Entities entities, PolicyEngine engine, Actions actions,
      io.ferry.controlplane.metrics.ControlMetrics.PolicyRuns runs) {
    this.runs = runs;
    this.catalog = catalog;
    this.entities = entities;
    this.engine = engine;
    this.actions = actions;
  }

  /** Fires the events of what changed since the last tick (nothing on the first: that is history). */
  void tick(List<VmState> vms, List<TimeslotState> slots, EvacuationPlanner.Params params, Instant now) {
    List<Runnable> fire = new ArrayList<>();
    for (TimeslotState s : slots) {
      String id = s.facts().timeslotId();
      String before = lastStage.put("ts:" + id, s.stage());
      if (s.stage().equals(before) || s.facts().owner() == null) continue;
      String type = switch (s.stage()) {
        case "Expiring" -> "timeslot.expiring";
        case "Active" -> "timeslot.active";
        case "Expired", "Failed", "Released", "Cancelled" -> "timeslot.ended";
        default -> null;
      };
      if (type != null) fire.add(() -> run(s.facts().owner(), type, "{\"timeslot\":\"" + id + "\",\"stage\":\"" + s.stage() + "\"}",
          type + " at " + catalog.position("Timeslot", id), vms, slots, params, now));
    }
    for (VmState vm : vms) {
      String before = lastStage.put("vm:" + vm.vmId(), vm.stage());
      if (vm.stage().equals(before)) continue;
      fire.add(() -> run(vm.facts().spec().owner(), "vm.state", "{\"vm\":\"" + vm.vmId() + "\",\"stage\":\"" + vm.stage()
          + "\",\"from\":\"" + before + "\"}", "vm.state " + before + "->" + vm.stage() + " at " + catalog.position("Vm", vm.vmId()), vms, slots, params, now));
    }
    for (var node : catalog.nodes()) {
      String id = node.facts().nodeId();
      String before = lastStage.put("node:" + id, node.stage());
      if (!node.stage().equals("Lost") || node.stage().equals(before)) continue;
      slots.stream().filter(t -> id.equals(t.facts().nodeId()) && t.facts().owner() != null).map(t -> t.facts().owner()).distinct()
          .forEach(owner -> fire.add(() -> run(owner, "node.lost", "{\"node\":\"" + id + "\"}",
              "node.lost at " + catalog.position("Node", id), vms, slots, params, now)));
    }
    if (primed) {
      for (Runnable event : fire) {
        try {
          event.run();
        } catch (RuntimeException e) {
          // One event whose policies could not be run must not cost the other events of the tick.
          log.error("running the policies of an event failed: {} (the built-in policy decides)", e.toString(), e);
        }
      }
    }
    primed = true;
  }

  private void run(String owner, String type, String event, String trigger, List<VmState> vms, List<TimeslotState> slots,
      EvacuationPlanner.Params params, Instant now) {
    List<PolicyState> policies = catalog.policies(owner).stream().filter(p -> p instanceof PolicyState.Active)
        .filter(p -> "user".equals(p.facts().scope())).collect(Collectors.toList());
    if (policies.isEmpty()) return;
    PolicyView view = view(owner, vms, slots, params, now);
    String viewJson = io.ferry.controlplane.api.ApiJson.MAPPER.valueToTree(view).toString();
    for (PolicyState p : policies) {
      var f = p.facts();
      String name = f.policyId() + " v" + f.version();
      long started = System.nanoTime();
      PolicyEngine.Outcome outcome = engine.run(f.name() + ".js", f.source(), type, event, viewJson);
      runs.ran(owner, outcome instanceof PolicyEngine.Outcome.Failed ? "failed"
          : ((PolicyEngine.Outcome.Decided) outcome).handlers() == 0 ? "unhandled" : "decided", (System.nanoTime() - started) / 1e9);
      if (outcome instanceof PolicyEngine.Outcome.Failed failed) {
        log.warn("policy {} failed on {}: {} (the built-in policy decides)", name, trigger, failed.reason());
        entities.policy(f.policyId(), r -> new Policy.RecordFailure(f.version(), trigger, failed.reason(), r)).whenComplete(Entities.logFailure(log, "journaling the failure of policy " + name));
        continue;
      }
      var decided = (PolicyEngine.Outcome.Decided) outcome;
      if (decided.handlers() == 0) continue;
      List<DeadlineRules.Verdict> verdicts = DeadlineRules.check(decided.actions(), view);
      verdicts = withinSiteLimits(owner, verdicts, view, viewJson);
      List<String> asked = new ArrayList<>();
      List<String> outcomes = new ArrayList<>();
      for (int i = 0; i < verdicts.size(); i++) {
        DeadlineRules.Verdict v = verdicts.get(i);
        int line = decided.lines().get(i);
        String detail = "line " + line + ": " + v.action();
        asked.add(detail);
        if (v.accepted()) {
          try {
            actions.apply(v.action(), owner, "policy " + name, detail + " (on " + trigger + ")");
            outcomes.add("accepted");
          } catch (RuntimeException e) {
            // One action that cannot be carried out must not cost the others, or the rest of the tick.
            log.warn("policy {}: {} accepted but could not be carried out: {}", name, v.action(), e.toString());
            outcomes.add("failed: " + e.getMessage());
          }
        } else {
          outcomes.add("refused: " + v.reason());
          log.info("policy {}: {} refused: {}", name, v.action(), v.reason());
        }
      }
      decided.logs().forEach(l -> log.info("policy {}: {}", name, l));
      String summary = summary(view);
      entities.policy(f.policyId(), r -> new Policy.RecordDecision(f.version(), trigger, summary, asked, outcomes, r))
          .whenComplete((s, e) -> {
            if (e != null) log.warn("policy {}: decision on {} not journaled: {}", name, trigger, e.getMessage());
          });
    }
  }

  /** Refuses the timeslot requests beyond what site-wide policies allow this user. */
  private List<DeadlineRules.Verdict> withinSiteLimits(String owner, List<DeadlineRules.Verdict> verdicts, PolicyView view,
      String viewJson) {
    if (verdicts.stream().noneMatch(v -> v.accepted() && v.action() instanceof PolicyAction.RequestTimeslot)) return verdicts;
    int limit = Integer.MAX_VALUE;
    String by = null;
    for (PolicyState site : catalog.policies(null)) {
      if (!(site instanceof PolicyState.Active) || !"site".equals(site.facts().scope())) continue;
      var f = site.facts();
      var o = engine.run(f.name() + ".js", f.source(), "limits", "{\"user\":\"" + owner + "\"}", viewJson);
      if (!(o instanceof PolicyEngine.Outcome.Decided d)) {
        log.warn("site policy {} v{} failed on limits for {}: {}", f.policyId(), f.version(), owner, ((PolicyEngine.Outcome.Failed) o).reason());
        continue;
      }
      for (PolicyAction a : d.actions()) {
        if (a instanceof PolicyAction.Limit l && l.maxTimeslots() < limit) {
          limit = l.maxTimeslots();
          by = "site policy " + f.policyId() + " v" + f.version();
        }
      }
    }
    long alive = view.timeslots().stream().filter(t -> List.of("Requested", "Pending", "Active").contains(t.stage())).count();
    List<DeadlineRules.Verdict> checked = new ArrayList<>();
    for (DeadlineRules.Verdict v : verdicts) {
      if (v.accepted() && v.action() instanceof PolicyAction.RequestTimeslot) {
        if (alive >= limit) {
          v = new DeadlineRules.Verdict(v.action(), false, by + " allows at most " + limit + " timeslots per user (" + alive + " held)");
        } else {
          alive++;
        }
      }
      checked.add(v);
    }
    return checked;
  }

  private PolicyView view(String owner, List<VmState> vms, List<TimeslotState> slots, EvacuationPlanner.Params params, Instant now) {
    List<PolicyView.Timeslot> ts = slots.stream().filter(s -> owner.equals(s.facts().owner())).map(s -> {
      var f = s.facts();
      var r = f.request();
      return new PolicyView.Timeslot(f.timeslotId(), s.stage(), f.nodeId(), r == null ? 0 : r.cores(), r == null ? 0 : r.memoryMiB(),
          r == null ? 0 : r.walltime().toSeconds(), r == null ? "" : r.partition(), f.freeCores(), f.freeMemoryMiB(),
          f.end() == null ? 0 : Math.max(0, f.timeLeft(now).toSeconds()));
    }).collect(Collectors.toList());
    List<PolicyView.Vm> vs = vms.stream().filter(v -> owner.equals(v.facts().spec().owner())).map(v -> {
      var p = v.facts().placement();
      var fl = v.facts().spec().flavour();
      var last = catalog.lastMigration(v.vmId());
      return new PolicyView.Vm(v.vmId(), v.stage(), p == null ? null : p.timeslotId(), p == null ? null : p.nodeId(), fl.vcpus(),
          fl.memoryMiB(), v.facts().spec().mode().name(), last == null ? 0 : last.totalMs(), last == null ? 0 : last.downtimeMs());
    }).collect(Collectors.toList());
    return new PolicyView(now.toEpochMilli(), owner, ts, vs, params.bandwidth(), params.safety().toSeconds());
  }

  private static String summary(PolicyView view) {
    return view.timeslots().stream().map(t -> t.id() + " " + t.stage() + " " + t.secondsLeft() + "s").collect(Collectors.joining(", "))
        + "; " + view.vms().stream().map(v -> v.id() + " " + v.stage() + (v.timeslot() == null ? "" : "@" + v.timeslot()))
        .collect(Collectors.joining(", "));
  }
}
