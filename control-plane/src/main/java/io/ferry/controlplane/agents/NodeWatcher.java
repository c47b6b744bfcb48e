package io.ferry.controlplane.agents;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.NodeFences;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.vm.VmState;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the cluster's membership of agent members into the Node entities' stages, one instance in
 * the cluster (a singleton on the control members): an agent that becomes unreachable makes its
 * node {@code Unreachable} (and reachable again, {@code Joined}); an agent the Split Brain
 * Resolver downed makes its node {@code Lost}, and every VM whose QEMU ran there {@code Lost} (a
 * VM migrating <em>to</em> it fails its migration and runs on at the source). The evacuation then
 * restarts lost VMs elsewhere. An agent that left gracefully makes its node {@code Left}: its
 * QEMUs may live on for a restarted agent to re-attach, so its VMs are not declared lost here (if
 * its job ended, the keeper declares them lost with the timeslot).
 *
 * <p>Only members the SBR downed count as lost, and only once they were ordered to fence (a row in
 * Cassandra, {@link NodeFences}) and the time they have to obey has passed ({@link #fenceWait}):
 * "lost" means their QEMUs are known dead. The argument is in node-agent's {@code FenceLease}.
 */
public final class NodeWatcher {
  private static final Logger log = LoggerFactory.getLogger(NodeWatcher.class);

  private static final java.time.Duration SWEEP = java.time.Duration.ofSeconds(2);
  /** Beyond the agents' fence-after: the kill itself and the two clocks' rate difference. */
  static final java.time.Duration FENCE_MARGIN = java.time.Duration.ofSeconds(2);

  private NodeWatcher() {}

  /** Repeats what a lost node's entities have not recorded yet (an ask may time out while shards move). */
  private record Sweep() implements ClusterEvent.ClusterDomainEvent {}

  /** The fence order for a downed agent was written (or not, with {@code error}). */
  private record Ordered(String node, long uid, Throwable error) implements ClusterEvent.ClusterDomainEvent {}

  /** A node whose agent was downed: which incarnation, and when its fence order was written. */
  private static final class Downed {
    final String address;
    final long uid;
    Long orderedAtNanos;
    boolean ordering;

    Downed(String address, long uid) {
      this.address = address;
      this.uid = uid;
    }
  }

  /**
   * How long after its fence order the control side waits before it records a downed node's VMs
   * lost (and so before anything restarts them): the agents' fence-after ("auto": 0.4 ×
   * stable-after; an agent refuses a longer one) plus {@link #FENCE_MARGIN}.
   */
  public static java.time.Duration fenceWait(com.typesafe.config.Config config) {
    return config.getDuration("ferry.control.split-brain-stable-after").multipliedBy(2).dividedBy(5).plus(FENCE_MARGIN);
  }

  public static Behavior<ClusterEvent.ClusterDomainEvent> create(Catalog catalog, Entities entities) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      Cluster cluster = Cluster.get(context.getSystem());
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.MemberRemoved.class));
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      timers.startTimerWithFixedDelay(new Sweep(), SWEEP);
      NodeFences fences = new NodeFences(context.getSystem());
      java.time.Duration wait = fenceWait(context.getSystem().settings().config());
      Map<String, Downed> lost = new HashMap<>(); // node → its agent that was downed
      Runnable sweep = () -> sweep(catalog, entities, lost, wait, (node, d) -> {
        d.ordering = true;
        String reason = "its agent " + d.address + " was downed by the split brain resolver (dead or cut off)";
        fences.order(node, d.uid, reason).whenComplete((done, error) -> context.getSelf().tell(new Ordered(node, d.uid, error)));
      });
      return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
          .onMessage(ClusterEvent.UnreachableMember.class, e -> {
            nodeOf(catalog, e.member()).ifPresent(node -> {
              log.warn("node {}: its agent {} is unreachable", node, e.member().address());
              entities.node(node, Node.MarkUnreachable::new).whenComplete(Entities.logFailure(log, "node " + node + " marked unreachable"));
            });
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.ReachableMember.class, e -> {
            nodeOf(catalog, e.member()).ifPresent(node -> entities.node(node, Node.MarkReachable::new).whenComplete(Entities.logFailure(log, "node " + node + " marked reachable")));
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.MemberRemoved.class, e -> {
            nodeOf(catalog, e.member()).ifPresent(node -> {
              if (e.previousStatus() != MemberStatus.down()) {
                log.info("node {}: its agent {} left the cluster", node, e.member().address());
                entities.node(node, Node.MarkLeft::new).whenComplete(Entities.logFailure(log, "node " + node + " marked left"));
              } else {
                log.warn("node {}: its agent {} was downed by the split brain resolver (dead or cut off): ordering it to fence;"
                    + " its VMs count as lost {} ms after the order", node, e.member().address(), wait.toMillis());
                lost.put(node, new Downed(e.member().address().toString(), e.member().uniqueAddress().longUid()));
                sweep.run();
              }
            });
            return Behaviors.same();
          })
          .onMessage(Ordered.class, o -> {
            Downed d = lost.get(o.node());
            if (d == null || d.uid != o.uid()) return Behaviors.same();
            d.ordering = false;
            if (o.error() != null) {
              log.warn("node {}: cannot write the fence order ({}); its VMs are not restarted until it is written", o.node(),
                  o.error().getMessage());
            } else {
              d.orderedAtNanos = System.nanoTime();
            }
            return Behaviors.same();
          })
          .onMessage(Sweep.class, t -> {
            sweep.run();
            return Behaviors.same();
          })
          .build();
    }));
  }

  /**
   * For every node whose agent was downed: orders it to fence, and once the order is
   * {@code wait} old records the node {@code Lost} and every VM still on it {@code Lost}
   * (idempotent: an entity that has moved on answers unchanged), until the catalog shows none left
   * there, or the node has joined again with a new agent.
   */
  private static void sweep(Catalog catalog, Entities entities, Map<String, Downed> lost, java.time.Duration wait,
      java.util.function.BiConsumer<String, Downed> order) {
    for (var it = lost.entrySet().iterator(); it.hasNext(); ) {
      var entry = it.next();
      String node = entry.getKey();
      Downed downed = entry.getValue();
      NodeState state = catalog.nodes().stream().filter(n -> n.facts().nodeId().equals(node)).findFirst().orElse(null);
      Address current = state == null ? null : state.facts().agentMember();
      if (state instanceof NodeState.Joined && current != null && !current.toString().equals(downed.address)) {
        it.remove(); // a new agent took the node over
        continue;
      }
      if (downed.orderedAtNanos == null) {
        if (!downed.ordering) order.accept(node, downed);
        continue;
      }
      if (System.nanoTime() - downed.orderedAtNanos < wait.toNanos()) continue;
      if (!(state instanceof NodeState.Lost)) {
        // its VMs are declared lost once the node is: not if a new agent registered on it meanwhile
        String reason = "its agent " + downed.address + " was downed by the split brain resolver (dead or cut off) and ordered to fence";
        entities.node(node, r -> new Node.MarkLost(downed.address, reason, r)).whenComplete((s, x) -> {
          if (x != null) log.info("node {}: loss not recorded yet (the next sweep tries again): {}", node, x.getMessage());
          else if (s instanceof NodeState.Lost) reportVmsLost(catalog, entities, node, wait);
          else log.info("node {}: not recorded lost: a new agent registered on it ({})", node, s.facts().agentAddress());
        });
        continue;
      }
      if (reportVmsLost(catalog, entities, node, wait) == 0) it.remove();
    }
  }

  /** Reports every VM still on {@code node} lost (idempotent); returns how many there were. */
  private static int reportVmsLost(Catalog catalog, Entities entities, String node, java.time.Duration wait) {
    var left = catalog.vms(null).stream().filter(vm -> usesNode(vm, node)).toList();
    for (VmState vm : left) {
      entities.vm(vm.vmId(), r -> new Vm.ReportLost(node, "node " + node + " was lost: its agent was downed by the split"
          + " brain resolver and ordered to fence, and the " + wait.toMillis() + " ms it has to kill its QEMUs have passed", r))
          .whenComplete((s, x) -> {
            if (x != null) log.info("VM {}: loss of node {} not recorded yet: {}", vm.vmId(), node, x.getMessage());
          });
    }
    return left.size();
  }

  /** Whether the VM's QEMU runs on {@code node}, or it is migrating there. */
  public static boolean usesNode(VmState vm, String node) {
    var at = vm.facts().placement();
    boolean there = at != null && node.equals(at.nodeId());
    boolean target = vm instanceof VmState.Migrating m && node.equals(m.target().nodeId());
    return there || target;
  }

  /** The node whose current agent is {@code member}, if it is an agent the catalog knows. */
  static Optional<String> nodeOf(Catalog catalog, Member member) {
    if (!member.hasRole("agent")) return Optional.empty();
    return catalog.nodes().stream()
        .filter(n -> member.address().equals(n.facts().agentMember()))
        .map(n -> n.facts().nodeId())
        .findFirst();
  }
}
