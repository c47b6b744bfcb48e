package io.ferry.controlplane.timeslots;

import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The built-in evacuation's decision for one VM on an expiring timeslot, as a pure function of
 * what the catalog shows, so it can be tested on its own. Deadline-aware: a migration is only
 * started if its estimate (memory ÷ bandwidth, plus a little) ends before the timeslot's end
 * minus the safety margin; otherwise the VM is suspended.
 */
public final class EvacuationPlanner {
  private EvacuationPlanner() {}

  /**
   * @param warningLead     how long before its end a timeslot starts expiring (a target must have
   *                        more than this plus the estimate left)
   * @param bandwidth       assumed migration bandwidth, bytes per second
   * @param safety          how long before the expiring timeslot's end a migration must be done
   * @param parallelPerNode how many migrations may leave one node at once
   */
  public record Params(Duration warningLead, long bandwidth, Duration safety, int parallelPerNode) {}

  /** What to do with the VM. */
  public sealed interface Step {
    record Stop(String reason) implements Step {}

    record Migrate(TimeslotState target, Duration deadline, Duration estimate) implements Step {}

    record Suspend(String reason) implements Step {}

    /** The node already sends its maximum of migrations: decide again on the next tick. */
    record Wait() implements Step {}
  }

  public static Step decide(VmState vm, TimeslotState expiring, List<TimeslotState> slots, int leavingFromNode,
      Instant now, Params p) {
    if (vm.facts().spec().mode() == VmMode.STATIC) return new Step.Stop("a static VM ends with its timeslot");
    Duration estimate = estimate(vm, p);
    Instant hardEnd = expiring.facts().end() == null ? now : expiring.facts().end().minus(p.safety());
    Duration left = Duration.between(now, hardEnd);
    Optional<TimeslotState> target = target(vm, expiring.facts().timeslotId(), slots, now, estimate, p);
    if (target.isEmpty()) return new Step.Suspend("no active timeslot has room and time for it");
    if (estimate.compareTo(left) >= 0) {
      return new Step.Suspend("a migration (~" + estimate.toSeconds() + " s) cannot end " + p.safety().toSeconds()
          + " s before the timeslot's end (" + Math.max(0, left.toSeconds()) + " s left)");
    }
    if (leavingFromNode >= p.parallelPerNode()) return new Step.Wait();
    return new Step.Migrate(target.get(), left, estimate);
  }

  /** Memory over bandwidth, plus 2 s for setup and switch-over. */
  public static Duration estimate(VmState vm, Params p) {
    long bytes = (long) Math.max(1, vm.facts().spec().flavour().memoryMiB()) << 20;
    return Duration.ofMillis(bytes * 1000 / p.bandwidth()).plusSeconds(2);
  }

  /** The owner's active timeslot (not {@code except}) with room and the most time left beyond the lead and {@code needed}. */
  public static Optional<TimeslotState> target(VmState vm, String except, List<TimeslotState> slots, Instant now,
      Duration needed, Params p) {
    var spec = vm.facts().spec();
    return slots.stream()
        .filter(s -> s instanceof TimeslotState.Active)
        .filter(s -> !s.facts().timeslotId().equals(except))
        .filter(s -> spec.owner().equals(s.facts().owner()))
        .filter(s -> s.facts().freeCores() >= spec.flavour().vcpus() && s.facts().freeMemoryMiB() >= spec.flavour().memoryMiB())
        .filter(s -> s.facts().timeLeft(now).compareTo(p.warningLead().plus(needed)) > 0)
        .max(Comparator.comparing(s -> s.facts().timeLeft(now)));
  }
}
