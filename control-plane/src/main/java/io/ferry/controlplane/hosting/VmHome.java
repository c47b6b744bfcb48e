package io.ferry.controlplane.hosting;

import io.ferry.journal.agent.AgentLookup;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.external.ExternalShardAllocation;
import org.apache.pekko.cluster.sharding.external.javadsl.ExternalShardAllocationClient;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a VM's entity should live, told to the external shard allocation of the Vm entities (one
 * shard per VM): on the agent member of the node whose QEMU runs the VM (Running, Migrating out,
 * Suspending, Stopping), and on a control member while it runs nowhere: the one it is on if that is
 * a control member (a new VM's entity starts on the member whose API took the request, because the
 * allocation strategy gives a shard it has no location for to the member asking; saying "stay" there
 * means no hand-off right after a create, when a hand-off would drop the commands that follow it),
 * else the oldest. The shard
 * coordinator moves the shard at its next rebalance ({@code pekko.cluster.sharding.rebalance-interval}),
 * and, entities being remembered, starts the entity there at once: it recovers from the journal and
 * attaches to its QEMU. While QEMU is being started or resumed somewhere the entity stays put.
 */
public final class VmHome {
  private static final Logger log = LoggerFactory.getLogger(VmHome.class);

  private final ActorSystem<?> system;
  private final ExternalShardAllocationClient client;
  private final Duration lookup;
  private final String controlRole;

  public VmHome(ActorSystem<?> system, String typeName, Duration lookup, String controlRole) {
    this.system = system;
    this.client = ExternalShardAllocation.get(system).getClient(typeName);
    this.lookup = lookup;
    this.controlRole = controlRole;
  }

  /** The node whose QEMU runs the VM in this stage, or {@code null} if it should live on a control member. */
  public static String qemuNode(VmState state) {
    boolean onNode = state instanceof VmState.Running || state instanceof VmState.Migrating
        || state instanceof VmState.Suspending || state instanceof VmState.Stopping;
    return onNode && state.facts().placement() != null ? state.facts().placement().nodeId() : null;
  }

  /** Whether the VM's stage is one in flight whose home is decided when it ends. */
  private static boolean inFlight(VmState state) {
    return state instanceof VmState.Placed || state instanceof VmState.Starting || state instanceof VmState.Resuming;
  }

  /** Records where the VM's entity belongs in its new stage (no-op while a start or resume is in flight). */
  public void settle(String vmId, VmState state) {
    if (inFlight(state)) return;
    String node = qemuNode(state);
    CompletionStage<Address> where = node == null ? CompletableFuture.completedFuture(restingPlace())
        : AgentLookup.find(system, node, lookup).thenApply(ref -> memberOf(ref.path().address()));
    where.thenCompose(address -> address == null ? CompletableFuture.completedFuture(null)
            : client.setShardLocation(vmId, address).thenApply(done -> address))
        .whenComplete((address, error) -> {
          if (error != null) log.warn("VM {}: cannot record where its entity lives ({}): {}", vmId, node, error.getMessage());
          else if (address != null) log.debug("VM {}: entity belongs on {}", vmId, address);
        });
  }

  private Address memberOf(Address address) {
    return memberAddress(org.apache.pekko.cluster.Cluster.get(system.classicSystem()), address);
  }

  /** The cluster address of the member an actor's {@code address} is on (a local one's is the member's own). */
  static Address memberAddress(org.apache.pekko.cluster.Cluster cluster, Address address) {
    return address.hasLocalScope() ? cluster.selfAddress() : address;
  }

  /** This member if it is an Up control member, else the oldest Up control member, or {@code null} if none is up. */
  private Address restingPlace() {
    Member self = Cluster.get(system).selfMember();
    if (self.hasRole(controlRole) && self.status() == MemberStatus.up()) return self.address();
    Iterable<Member> members = Cluster.get(system).state().getMembers();
    return StreamSupport.stream(members.spliterator(), false)
        .filter(m -> m.hasRole(controlRole) && m.status() == MemberStatus.up())
        .min(Member.ageOrdering())
        .map(Member::address).orElse(null);
  }
}
