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
 * One incarnation's part in {@link FenceLease} (whose {@link FenceReader} reads the node's fence
 * orders for the whole process): registers the incarnation, tells the lease whether a control
 * member is reachable, and asks for a rejoin when the
 * control plane is gone (every control member left or was removed, as when it restarts): the
 * member then ends without killing its QEMUs and the agent process starts a new member that joins
 * the control plane's seed nodes again and re-attaches.
 */
public final class Fencing {
  private Fencing() {}

  /**
   * Time to check again whether this member should end and join the control plane again: because
   * every control member has left, or because it is older than every control member.
   */
  private record Rejoin() {}

  /**
   * Whether this member is older than every Up control member (and there is one). Pekko's shard
   * regions (1.2) look for a coordinator at the oldest member of the entity's role, whatever
   * {@code coordinator-singleton.role} says; the Vm entities' role includes agents, whose members
   * never run a coordinator. So once every control member is younger than some agent — a rolling
   * restart of the control plane does that — no Vm region finds its coordinator and every VM's
   * entity stalls (found by ops/chaos, ROLLING_RESTART). Such an agent ends its member, keeping
   * its VMs, and joins again: then it is younger than the control members.
   */
  static <M> boolean olderThanEveryControlMember(M self, java.util.Collection<M> up, java.util.function.Predicate<M> control,
      java.util.function.BiPredicate<M, M> olderThan) {
    boolean any = false;
    for (M m : up) {
      if (!control.test(m)) continue;
      any = true;
      if (!olderThan.test(self, m)) return false;
    }
    return any;
  }

  /** Whether every control member this agent knows is unreachable (and it knows at least one). */
  static boolean cutOff(Set<Address> control, Set<Address> unreachable) {
    return !control.isEmpty() && unreachable.containsAll(control);
  }

  static Behavior<Object> create(String controlRole, FenceLease lease, Duration rejoinAfter) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      Cluster cluster = Cluster.get(context.getSystem());
      lease.incarnation(cluster.selfMember().uniqueAddress().longUid());
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      Set<Address> control = new HashSet<>();
      Set<Address> unreachable = new HashSet<>();
      boolean[] everJoined = {false};
      Runnable decide = () -> {
        boolean reachable = !control.isEmpty() && !cutOff(control, unreachable);
        boolean wasAttached = lease.attachedNow();
        lease.attached(reachable);
        if (wasAttached && !reachable) {
          context.getLog().warn("no control member is reachable: keeping this node's VMs while no fence order is found"
              + " (the lease was renewed {} ms ago; fence-after {} ms)", lease.millisSinceRenewal(), lease.fenceAfter().toMillis());
        } else if (!wasAttached && reachable) {
          context.getLog().info("a control member is reachable");
        }
        if (everJoined[0] && control.isEmpty() || olderThanControl(cluster, controlRole)) {
          if (!timers.isTimerActive("rejoin")) timers.startSingleTimer("rejoin", new Rejoin(), rejoinAfter);
        } else {
          timers.cancel("rejoin");
        }
      };
      return Behaviors.receive(Object.class)
          .onMessage(Rejoin.class, r -> {
            String why = !control.isEmpty() ? null : "every control member has left the cluster (a control-plane restart?)";
            if (why == null && olderThanControl(cluster, controlRole)) {
              why = "this member is older than every control member (the control plane was restarted member by member),"
                  + " so the VM shards cannot find their coordinator";
            }
            if (why == null) return Behaviors.same();
            context.getLog().warn("{}: ending this member, keeping the VMs, and joining the control plane again", why);
            CoordinatedShutdown.get(context.getSystem()).run(new RejoinReason());
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.MemberUp.class, e -> track(e.member(), controlRole, control, everJoined, decide))
          .onMessage(ClusterEvent.MemberRemoved.class, e -> {
            control.remove(e.member().address());
            unreachable.remove(e.member().address());
            decide.run();
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.MemberLeft.class, e -> {
            control.remove(e.member().address());
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
          .onMessage(ClusterEvent.MemberEvent.class, e -> {
            if (e.member().status() == MemberStatus.up()) track(e.member(), controlRole, control, everJoined, decide);
            return Behaviors.same();
          })
          .build();
    }));
  }

  private static boolean olderThanControl(Cluster cluster, String controlRole) {
    Member self = cluster.selfMember();
    if (self.status() != MemberStatus.up()) return false;
    java.util.List<Member> up = new java.util.ArrayList<>();
    cluster.state().getMembers().forEach(m -> {
      if (m.status() == MemberStatus.up()) up.add(m);
    });
    return olderThanEveryControlMember(self, up, m -> m.hasRole(controlRole), Member::isOlderThan);
  }

  private static Behavior<Object> track(Member member, String controlRole, Set<Address> control, boolean[] everJoined,
      Runnable decide) {
    if (member.hasRole(controlRole)) {
      control.add(member.address());
      everJoined[0] = true;
    }
    decide.run();
    return Behaviors.same();
  }

  /** The coordinated-shutdown reason of an agent that fenced itself. */
  public static final class FencedReason implements CoordinatedShutdown.Reason {}

  /** The coordinated-shutdown reason of a member that ends so that the agent can join the control plane again. */
  public static final class RejoinReason implements CoordinatedShutdown.Reason {}
}
