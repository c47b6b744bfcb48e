package io.ferry.controlplane.qemu;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Where a VM's sharded entity runs, read from the cluster's sharding statistics (each VM is a
 * shard of its own), and the check that it runs on the agent member of the node that runs its QEMU.
 */
final class EntityHost {
  private EntityHost() {}

  /** The member whose Vm region holds the VM's shard now, or {@code null} if none does. */
  static Address of(ActorSystem<?> system, String vmId) {
    TestProbe<ShardRegion.ClusterShardingStats> probe = TestProbe.create(system);
    ClusterSharding.get(system).shardState().tell(new GetClusterShardingStats(Vm.ENTITY_KEY, Duration.ofSeconds(3), probe.getRef()));
    ShardRegion.ClusterShardingStats stats = probe.receiveMessage(Duration.ofSeconds(5));
    for (Map.Entry<Address, ShardRegion.ShardRegionStats> region : stats.getRegions().entrySet()) {
      if (region.getValue().getStats().containsKey(vmId)) return region.getKey();
    }
    return null;
  }

  /**
   * Waits until the VM's entity runs on the agent member of {@code node} (the shard moves at the
   * coordinator's next rebalance, about a second after the VM's stage changed), and returns it.
   */
  static Address awaitOnAgentOf(ActorSystem<?> system, Entities entities, String vmId, String node) {
    TestProbe<Object> probe = TestProbe.create(system);
    return probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(250), () -> {
      NodeState n = entities.node(node, Node.GetNode::new).toCompletableFuture().join();
      Address agent = n.facts().agentMember();
      VmState vm = entities.vm(vmId, Vm.GetVm::new).toCompletableFuture().join(); // wakes it if it moved
      Address host = of(system, vmId);
      if (agent == null || !agent.equals(host)) {
        throw new AssertionError("VM " + vmId + " (" + vm.stage() + " on " + node + ") has its entity on " + host
            + ", not on the agent member " + agent + " of node " + node);
      }
      return host;
    });
  }

  /** Waits until the VM's entity runs on a member that is not an agent (a control member). */
  static Address awaitOnControl(ActorSystem<?> system, Entities entities, String vmId) {
    TestProbe<Object> probe = TestProbe.create(system);
    return probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(250), () -> {
      entities.vm(vmId, Vm.GetVm::new).toCompletableFuture().join();
      Address host = of(system, vmId);
      boolean control = org.apache.pekko.cluster.typed.Cluster.get(system).state().getMembers().iterator().hasNext()
          && java.util.stream.StreamSupport.stream(org.apache.pekko.cluster.typed.Cluster.get(system).state().getMembers().spliterator(), false)
              .anyMatch(m -> m.address().equals(host) && m.hasRole("control"));
      if (!control) throw new AssertionError("VM " + vmId + " has its entity on " + host + ", not on a control member");
      return host;
    });
  }
}
