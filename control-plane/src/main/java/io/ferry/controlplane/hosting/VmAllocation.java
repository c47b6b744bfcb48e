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
  private final java.time.Duration handoffTimeout;
  /** Moves started lately, by shard (touched by the coordinator and by the moves' completions). */
  private final Map<String, Move> moving = new java.util.concurrent.ConcurrentHashMap<>();

  public VmAllocation(org.apache.pekko.actor.typed.ActorSystem<?> system, String typeName, String controlRole) {
    this.system = org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system);
    this.external = new ExternalShardAllocationStrategy(system, typeName, Timeout.create(java.time.Duration.ofSeconds(5)));
    this.controlRole = controlRole;
    this.handoffTimeout = system.settings().config().getDuration("pekko.cluster.sharding.handoff-timeout");
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

  /**
   * The external strategy's moves, except
   * <ul>
   *   <li>none while a region's member is unreachable: a hand-off waits for every region's
   *       acknowledgement, so one started then holds the shard's messages for the whole
   *       {@code handoff-timeout} and fails, and the VM's entity answers nothing meanwhile (not
   *       even the news that its job ended); moves resume once the member is reachable or removed;
   *   <li>not a shard whose last move failed (it is still in the region it was moved from) within
   *       {@link #RETRY_AFTER} of that failure: a hand-off towards a member that just died (and is
   *       not unreachable yet) is not started again and again, and the entity answers in between.
   * </ul>
   */
  @Override
  public Future<scala.collection.immutable.Set<String>> rebalance(
      scala.collection.immutable.Map<ActorRef, IndexedSeq<String>> current, scala.collection.immutable.Set<String> inProgress) {
    Map<ActorRef, IndexedSeq<String>> regions = CollectionConverters.asJava(current);
    if (regions.keySet().stream().anyMatch(this::unreachable)) {
      return scala.concurrent.Future.successful(scala.collection.immutable.Set$.MODULE$.<String>empty());
    }
    Map<String, ActorRef> where = new java.util.HashMap<>();
    regions.forEach((region, shards) -> CollectionConverters.asJava(shards).forEach(shard -> where.put(shard, region)));
    return FutureConverters.asScala(FutureConverters.asJava(external.rebalance(current, inProgress)).thenApply(moves -> {
      long now = System.nanoTime();
      moving.values().removeIf(m -> now - m.startedNanos() > handoffTimeout.plus(RETRY_AFTER).toNanos());
      java.util.Set<String> chosen = new java.util.HashSet<>();
      for (String shard : CollectionConverters.asJava(moves)) {
        Move last = moving.get(shard);
        boolean failedLately = last != null && last.from().equals(where.get(shard));
        if (failedLately) continue;
        moving.put(shard, new Move(where.get(shard), now));
        chosen.add(shard);
      }
      return CollectionConverters.asScala(chosen).toSet();
    }));
  }

  /** How long a shard whose hand-off failed stays where it is before it is moved again. */
  static final java.time.Duration RETRY_AFTER = java.time.Duration.ofSeconds(5);

  /** A move handed to the coordinator: the region the shard was in, and when. */
  private record Move(ActorRef from, long startedNanos) {}

  private boolean unreachable(ActorRef region) {
    Address address = addressOf(region);
    for (Member m : Cluster.get(system).state().getUnreachable()) {
      if (m.address().equals(address)) return true;
    }
    return false;
  }

  private Address addressOf(ActorRef region) {
    return VmHome.memberAddress(Cluster.get(system), region.path().address());
  }

  /** The region with the fewest shards, on a control member if there is one. */
  private ActorRef fallback(Map<ActorRef, IndexedSeq<String>> regions) {
    Comparator<Map.Entry<ActorRef, IndexedSeq<String>>> control = Comparator.comparing(e -> onControl(e.getKey()) ? 0 : 1);
    return regions.entrySet().stream()
        .min(control.thenComparing(e -> e.getValue().size()))
        .map(Map.Entry::getKey).orElseThrow();
  }

  private boolean onControl(ActorRef region) {
    Address address = addressOf(region);
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.address().equals(address)) return m.hasRole(controlRole);
    }
    return false;
  }
}
