package io.ferry.policies;

import java.util.ArrayList;
import java.util.List;

/**
 * The evacuation's rules applied to what a policy asked for, before anything is done: an action on
 * a VM or timeslot the policy may not see is refused; a migration that is estimated (memory ÷
 * measured rate, plus 2 s) not to end before its source timeslot's end minus the safety margin, or
 * onto a timeslot without room or time, is refused with the reason; so is a resume onto one.
 * Refused actions are recorded with their reason and the fallback policy decides for those VMs.
 */
public final class DeadlineRules {
  private DeadlineRules() {}

  /** An action and what became of it here. */
  public record Verdict(PolicyAction action, boolean accepted, String reason) {
    static Verdict ok(PolicyAction a) {
      return new Verdict(a, true, "");
    }

    static Verdict no(PolicyAction a, String why) {
      return new Verdict(a, false, why);
    }
  }

  public static List<Verdict> check(List<PolicyAction> actions, PolicyView view) {
    List<Verdict> verdicts = new ArrayList<>();
    for (PolicyAction a : actions) verdicts.add(check(a, view));
    return verdicts;
  }

  /** Seconds a live migration of {@code memoryMiB} is estimated to take at the view's rate. */
  public static long estimateSeconds(int memoryMiB, PolicyView view) {
    long bytes = (long) Math.max(1, memoryMiB) << 20;
    return (long) Math.ceil(bytes / (double) Math.max(1, view.migrationBytesPerSecond())) + 2;
  }

  static Verdict check(PolicyAction a, PolicyView view) {
    if (a instanceof PolicyAction.Migrate m) {
      PolicyView.Vm vm = view.vm(m.vmId());
      if (vm == null) return Verdict.no(a, "no VM " + m.vmId() + " of yours");
      if (!vm.stage().equals("Running")) return Verdict.no(a, "VM " + vm.id() + " is " + vm.stage() + ", not Running");
      PolicyView.Timeslot to = view.timeslot(m.timeslotId());
      String room = roomFor(vm, to, m.timeslotId(), view);
      if (room != null) return Verdict.no(a, room);
      if (to.id().equals(vm.timeslot())) return Verdict.no(a, "VM " + vm.id() + " already runs on timeslot " + to.id());
      long needed = estimateSeconds(vm.memoryMiB(), view);
      PolicyView.Timeslot from = view.timeslot(vm.timeslot());
      if (from != null) {
        long left = from.secondsLeft() - view.safetyMarginSeconds();
        if (needed >= left) {
          return Verdict.no(a, "a migration of VM " + vm.id() + " (~" + needed + " s at the measured rate) cannot end "
              + view.safetyMarginSeconds() + " s before timeslot " + from.id() + " ends (" + Math.max(0, left) + " s left)");
        }
      }
      return Verdict.ok(a);
    }
    if (a instanceof PolicyAction.Resume r) {
      PolicyView.Vm vm = view.vm(r.vmId());
      if (vm == null) return Verdict.no(a, "no VM " + r.vmId() + " of yours");
      if (!vm.stage().equals("Suspended") && !vm.stage().equals("Lost")) {
        return Verdict.no(a, "VM " + vm.id() + " is " + vm.stage() + ", not Suspended or Lost");
      }
      String room = roomFor(vm, view.timeslot(r.timeslotId()), r.timeslotId(), view);
      return room == null ? Verdict.ok(a) : Verdict.no(a, room);
    }
    if (a instanceof PolicyAction.Suspend s) return known(a, view.vm(s.vmId()), s.vmId());
    if (a instanceof PolicyAction.Stop s) return known(a, view.vm(s.vmId()), s.vmId());
    if (a instanceof PolicyAction.Release r) {
      return view.timeslot(r.timeslotId()) == null ? Verdict.no(a, "no timeslot " + r.timeslotId() + " of yours") : Verdict.ok(a);
    }
    if (a instanceof PolicyAction.Limit) return Verdict.no(a, "only site-wide policies set limits, on the 'limits' event");
    return Verdict.ok(a); // a timeslot request: the site's limits are checked where it is made
  }

  private static Verdict known(PolicyAction a, PolicyView.Vm vm, String id) {
    return vm == null ? Verdict.no(a, "no VM " + id + " of yours") : Verdict.ok(a);
  }

  /** Why {@code to} cannot take the VM now, or {@code null} if it can. */
  private static String roomFor(PolicyView.Vm vm, PolicyView.Timeslot to, String id, PolicyView view) {
    if (to == null) return "no timeslot " + id + " of yours";
    if (!to.stage().equals("Active")) return "timeslot " + id + " is " + to.stage() + ", not Active";
    if (to.freeCores() < vm.vcpus() || to.freeMemoryMiB() < vm.memoryMiB()) {
      return "timeslot " + id + " has no room for VM " + vm.id() + " (" + to.freeCores() + " cores, " + to.freeMemoryMiB()
          + " MiB free; it needs " + vm.vcpus() + " and " + vm.memoryMiB() + ")";
    }
    long needed = estimateSeconds(vm.memoryMiB(), view) + view.safetyMarginSeconds();
    if (to.secondsLeft() <= needed) return "timeslot " + id + " ends too soon (" + to.secondsLeft() + " s left)";
    return null;
  }
}
