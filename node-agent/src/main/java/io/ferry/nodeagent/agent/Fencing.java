package io.ferry.nodeagent.agent;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The agent's half of "a VM never runs twice". An agent cut off from every control member kills its
 * QEMUs {@code fence-after} after it lost the last one, and leaves: the control plane's Split
 * Brain Resolver downs it only {@code stable-after} after <em>it</em> noticed, and restarts its VMs
 * only after that. The timing argument: both sides notice the cut within the failure detector's
 * spread D of each other (heartbeat interval + acceptable pause, about 4 s), so the agent has
 * killed its QEMUs by (notice + fence-after) ≤ (control's notice + D + fence-after), which is before
 * (control's notice + stable-after) as long as fence-after + D + the kill's time < stable-after;
 * the default fence-after is 0.4 × stable-after (4 s of 10 s). An agent that learns it was downed
 * (it was frozen, or the network healed too late) fences in its coordinated shutdown (see
 * {@link NodeAgent}). Control members that <em>leave</em> (a restart) do not make agents fence:
 * nobody restarts VMs then.
 */
public final class Fencing {
  private Fencing() {}

  private record Cut() {}

  /** Whether every control member this agent knows is unreachable (and it knows at least one). */
  static boolean cutOff(Set<Address> control, Set<Address> unreachable) {
    return !control.isEmpty() && unreachable.containsAll(control);
  }

  static Behavior<Object> create(String controlRole, Duration fenceAfter) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      Cluster cluster = Cluster.get(context.getSystem());
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      Set<Address> control = new HashSet<>();
      Set<Address> unreachable = new HashSet<>();
      Runnable decide = () -> {
        if (cutOff(control, unreachable)) {
          if (!timers.isTimerActive("cut")) {
            context.getLog().warn("every control member is unreachable: fencing in {} ms unless one comes back", fenceAfter.toMillis());
            timers.startSingleTimer("cut", new Cut(), fenceAfter);
          }
        } else if (timers.isTimerActive("cut")) {
          context.getLog().info("a control member is reachable again: not fencing");
          timers.cancel("cut");
        }
      };
      return Behaviors.receive(Object.class)
          .onMessage(ClusterEvent.MemberUp.class, e -> track(e.member(), controlRole, control, decide))
          .onMessage(ClusterEvent.MemberRemoved.class, e -> {
            control.remove(e.member().address());
            unreachable.remove(e.member().address());
            decide.run();
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.UnreachableMember.class, e -> {
            unreachable.add(e.member().address());
            decide.run();
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.ReachableMember.class, e -> {
            unreachable.remove(e.member().address());
            decide.run();
            return Behaviors.same();
          })
          .onMessage(Cut.class, c -> {
            if (!cutOff(control, unreachable)) return Behaviors.same();
            context.getLog().error("cut off from every control member for {} ms: fencing (killing this node's QEMUs) and leaving",
                fenceAfter.toMillis());
            CoordinatedShutdown.get(context.getSystem()).run(new FencedReason());
            return Behaviors.stopped();
          })
          .onMessage(ClusterEvent.MemberEvent.class, e -> {
            if (e.member().status() == MemberStatus.up()) track(e.member(), controlRole, control, decide);
            return Behaviors.same();
          })
          .build();
    }));
  }

  private static Behavior<Object> track(Member member, String controlRole, Set<Address> control, Runnable decide) {
    if (member.hasRole(controlRole)) control.add(member.address());
    decide.run();
    return Behaviors.same();
  }

  /** The coordinated-shutdown reason of an agent that fenced itself. */
  public static final class FencedReason implements CoordinatedShutdown.Reason {}
}
