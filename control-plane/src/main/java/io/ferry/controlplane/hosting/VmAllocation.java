package io.ferry.controlplane.hosting;

import java.util.Comparator;
import java.util.Map;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.cluster.sharding.external.ExternalShardAllocationStrategy;
import org.apache.pekko.util.Timeout;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * The Vm entities' shard allocation: where {@link VmHome} put the VM (Pekko's external shard
 * allocation), and otherwise, where the external strategy would hand the shard to whoever asked
 * even when that is no region (a proxy-only member, or the coordinator itself restarting a
 * remembered entity whose agent died), to the least loaded region on a control member.
 */
public final class VmAllocation implements ShardCoordinator.StartableAllocationStrategy {
  private final ExternalShardAllocationStrategy external;
  private final ActorSystem system;
  private final String controlRole;

  public VmAllocation(org.apache.pekko.actor.typed.ActorSystem<?> system, String typeName, String controlRole) {
    this.system = org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system);
    this.external = new ExternalShardAllocationStrategy(system, typeName, Timeout.create(java.time.Duration.ofSeconds(5)));
    this.controlRole = controlRole;
  }

  private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Starts the external strategy's state actor once: a coordinator that restarts (for example after
   * its remember-entities store failed) calls this again, and a second actor of that fixed name
   * would fail the coordinator for good.
   */
  @Override
  public void start() {
    if (started.compareAndSet(false, true)) external.start();
  }

  @Override
  public Future<ActorRef> allocateShard(ActorRef requester, String shardId,
      scala.collection.immutable.Map<ActorRef, IndexedSeq<String>> current) {
    Map<ActorRef, IndexedSeq<String>> regions = CollectionConverters.asJava(current);
    return FutureConverters.asScala(FutureConverters.asJava(external.allocateShard(requester, shardId, current))
        .thenApply(region -> regions.containsKey(region) || regions.isEmpty() ? region : fallback(regions)));
  }

  @Override
  public Future<scala.collection.immutable.Set<String>> rebalance(
      scala.collection.immutable.Map<ActorRef, IndexedSeq<String>> current, scala.collection.immutable.Set<String> inProgress) {
    return external.rebalance(current, inProgress);
  }

  /** The region with the fewest shards, on a control member if there is one. */
  private ActorRef fallback(Map<ActorRef, IndexedSeq<String>> regions) {
    Comparator<Map.Entry<ActorRef, IndexedSeq<String>>> control = Comparator.comparing(e -> onControl(e.getKey()) ? 0 : 1);
    return regions.entrySet().stream()
        .min(control.thenComparing(e -> e.getValue().size()))
        .map(Map.Entry::getKey).orElseThrow();
  }

  private boolean onControl(ActorRef region) {
    Cluster cluster = Cluster.get(system);
    Address address = region.path().address().hasLocalScope() ? cluster.selfAddress() : region.path().address();
    for (Member m : cluster.state().getMembers()) {
      if (m.address().equals(address)) return m.hasRole(controlRole);
    }
    return false;
  }
}
