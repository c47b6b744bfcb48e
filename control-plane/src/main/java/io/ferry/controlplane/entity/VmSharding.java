package io.ferry.controlplane.entity;

import io.ferry.controlplane.agents.AgentLink;
import io.ferry.controlplane.hosting.VmAllocation;
import io.ferry.controlplane.hosting.VmHome;
import java.time.Clock;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/** How the {@link Vm} entities are sharded: one shard per VM, placed where its QEMU runs. */
final class VmSharding {
  private VmSharding() {}

  /**
   * Starts the sharding of VM entities on this member (members with role
   * {@code ferry.control.vm-host-role}: control members, and agent members that host their VMs):
   * one shard per VM, placed by the external shard allocation that {@link VmHome} keeps (the
   * entity lives on the agent member whose node runs its QEMU, otherwise on a control member),
   * remembered so that a moved shard restarts its entity at once at the new place.
   */
  static void init(ActorSystem<?> system, Clock clock, AgentLink agents) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Vm.Capacity capacity = (timeslotId, vmId) -> sharding.entityRefFor(Timeslot.ENTITY_KEY, timeslotId)
        .tell(new Timeslot.FreeCapacity(vmId, system.ignoreRef()));
    var config = system.settings().config();
    VmHome home = new VmHome(system, Vm.ENTITY_KEY.name(), config.getDuration("ferry.control.agent-lookup-timeout"),
        config.getString("ferry.control.role"));
    sharding.init(Entity.of(Vm.ENTITY_KEY, ctx -> Vm.create(ctx.getEntityId(), clock, agents, capacity, home::settle))
        .withRole(config.getString("ferry.control.vm-host-role"))
        .withMessageExtractor(new ShardPerVm())
        .withAllocationStrategy(new VmAllocation(system, Vm.ENTITY_KEY.name(), config.getString("ferry.control.role")))
        .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)
            .withStateStoreMode(coordinatorStore(config.getString("ferry.control.vm-coordinator-store")))
            .withRememberEntitiesStoreMode(ClusterShardingSettings.rememberEntitiesStoreModeEventSourced())));
  }

  /** The shard coordinator's store named by {@code ferry.control.vm-coordinator-store}. */
  static ClusterShardingSettings.StateStoreMode coordinatorStore(String name) {
    return switch (name) {
      case "persistence" -> ClusterShardingSettings.stateStoreModePersistence();
      case "ddata" -> ClusterShardingSettings.stateStoreModeDdata();
      default -> throw new IllegalArgumentException("ferry.control.vm-coordinator-store is \"" + name
          + "\": use persistence (the default) or ddata");
    };
  }

  /** Every VM is a shard of its own, so that it can be placed by itself. */
  static final class ShardPerVm extends ShardingMessageExtractor<ShardingEnvelope<Vm.Command>, Vm.Command> {
    @Override
    public String entityId(ShardingEnvelope<Vm.Command> envelope) {
      return envelope.entityId();
    }

    @Override
    public String shardId(String entityId) {
      return entityId;
    }

    @Override
    public Vm.Command unwrapMessage(ShardingEnvelope<Vm.Command> envelope) {
      return envelope.message();
    }
  }
}
