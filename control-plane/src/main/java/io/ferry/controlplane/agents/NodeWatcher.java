package io.ferry.controlplane.agents;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.vm.VmState;
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
 * <p>Only members the SBR downed count as lost, and the downed member fences itself (kills its
 * QEMUs) before the resolver's {@code stable-after} has passed on this side; see the agent's
 * {@code ferry.agent.fence-after}.
 */
public final class NodeWatcher {
  private static final Logger log = LoggerFactory.getLogger(NodeWatcher.class);

  private NodeWatcher() {}

  public static Behavior<ClusterEvent.ClusterDomainEvent> create(Catalog catalog, Entities entities) {
    return Behaviors.setup(context -> {
      Cluster cluster = Cluster.get(context.getSystem());
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.MemberRemoved.class));
      cluster.subscriptions().tell(Subscribe.create(context.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
          .onMessage(ClusterEvent.UnreachableMember.class, e -> {
            nodeOf(catalog, e.member()).ifPresent(node -> {
              log.warn("node {}: its agent {} is unreachable", node, e.member().address());
              entities.node(node, Node.MarkUnreachable::new).whenComplete((s, x) -> {});
            });
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.ReachableMember.class, e -> {
            nodeOf(catalog, e.member()).ifPresent(node -> entities.node(node, Node.MarkReachable::new).whenComplete((s, x) -> {}));
            return Behaviors.same();
          })
          .onMessage(ClusterEvent.MemberRemoved.class, e -> {
            nodeOf(catalog, e.member()).ifPresent(node -> removed(catalog, entities, node, e));
            return Behaviors.same();
          })
          .build();
    });
  }

  private static void removed(Catalog catalog, Entities entities, String node, ClusterEvent.MemberRemoved e) {
    if (e.previousStatus() != MemberStatus.down()) {
      log.info("node {}: its agent {} left the cluster", node, e.member().address());
      entities.node(node, Node.MarkLeft::new).whenComplete((s, x) -> {});
      return;
    }
    String reason = "its agent " + e.member().address() + " was downed by the split brain resolver (dead or cut off)";
    log.warn("node {} lost: {}", node, reason);
    entities.node(node, r -> new Node.MarkLost(reason, r)).whenComplete((s, x) -> {});
    for (VmState vm : catalog.vms(null)) {
      if (usesNode(vm, node)) {
        entities.vm(vm.vmId(), r -> new Vm.ReportLost(node, r)).whenComplete((s, x) -> {
          if (x != null) log.info("VM {}: loss of node {} not recorded: {}", vm.vmId(), node, x.getMessage());
        });
      }
    }
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
    String prefix = member.address().toString() + "/";
    return catalog.nodes().stream()
        .filter(n -> n.facts().agentAddress() != null && n.facts().agentAddress().startsWith(prefix))
        .map(n -> n.facts().nodeId())
        .findFirst();
  }

  /** The member address of a node's agent, from its registration ({@code null} if never joined). */
  public static Address agentAddress(NodeState node) {
    String ref = node.facts().agentAddress();
    if (ref == null) return null;
    int path = ref.indexOf('/', ref.indexOf("://") + 3);
    return org.apache.pekko.actor.AddressFromURIString.parse(path < 0 ? ref : ref.substring(0, path));
  }
}
