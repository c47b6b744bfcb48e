package io.ferry.controlplane.hosting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.external.ExternalShardAllocation;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * The Vm shards' rebalance on a one-member cluster (no Cassandra: the external allocation's
 * locations live in Distributed Data): a shard away from where VmHome put it is moved; a move that
 * failed (the shard is still where it was) is not started again at once; a shard that did move may
 * move again right away.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmAllocationTest {
  private ActorTestKit kit;
  private ActorTestKit elsewhere;
  private VmAllocation allocation;
  private org.apache.pekko.actor.ActorRef agentRegion;

  @BeforeAll
  void start() {
    var config = ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical { hostname = 127.0.0.1, port = 0 }
        pekko.cluster.sharding.handoff-timeout = 1s
        """).withFallback(ConfigFactory.load());
    kit = ActorTestKit.create("alloc", config);
    // a "region" on another member (an agent's): a ref whose address is another system's
    elsewhere = ActorTestKit.create("alloc", config);
    Address agent = Cluster.get(elsewhere.system()).selfMember().address();
    String path = Adapter.toClassic(elsewhere.createTestProbe().ref()).path().toStringWithAddress(agent);
    agentRegion = ((org.apache.pekko.actor.ExtendedActorSystem) Adapter.toClassic(kit.system())).provider().resolveActorRef(path);
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(MemberStatus.up(), cluster.selfMember().status());
      return null;
    });
    allocation = new VmAllocation(kit.system(), "Vm", "control");
    allocation.start();
    // shard s1 belongs on the agent's member
    ExternalShardAllocation.get(kit.system()).getClient("Vm").setShardLocation("s1", agent).toCompletableFuture().join();
  }

  @AfterAll
  void stop() {
    elsewhere.shutdownTestKit();
    kit.shutdownTestKit();
  }

  private Set<String> rebalance(Map<org.apache.pekko.actor.ActorRef, List<String>> current) {
    Map<org.apache.pekko.actor.ActorRef, scala.collection.immutable.IndexedSeq<String>> regions = new java.util.HashMap<>();
    current.forEach((region, shards) -> regions.put(region, CollectionConverters.asScala(shards).toIndexedSeq()));
    scala.collection.immutable.Map<org.apache.pekko.actor.ActorRef, scala.collection.immutable.IndexedSeq<String>> map =
        scala.collection.immutable.Map.from(CollectionConverters.asScala(regions));
    return CollectionConverters.asJava(FutureConverters.asJava(
        allocation.rebalance(map, scala.collection.immutable.Set$.MODULE$.<String>empty())).toCompletableFuture().join());
  }

  @Test
  void aFailedMoveWaitsAndAShardThatMovedMayMoveAgain() {
    var a = Adapter.toClassic(kit.createTestProbe().ref());
    var b = Adapter.toClassic(kit.createTestProbe().ref());
    var agent = agentRegion;
    TestProbe<Object> probe = kit.createTestProbe();
    // the location write reaches the strategy's state through Distributed Data: wait for the first move
    probe.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(100), () -> {
      assertEquals(Set.of("s1"), rebalance(Map.of(a, List.of("s1"), b, List.of(), agent, List.of())));
      return null;
    });
    assertEquals(Set.of(), rebalance(Map.of(a, List.of("s1"), b, List.of(), agent, List.of())), "a move that failed is not retried at once");
    assertEquals(Set.of("s1"), rebalance(Map.of(a, List.of(), b, List.of("s1"), agent, List.of())), "a shard that moved may move again");
    assertEquals(Set.of(), rebalance(Map.of(a, List.of(), b, List.of("s1"), agent, List.of())));
    // after handoff-timeout + RETRY_AFTER the failed move is tried again
    probe.awaitAssert(Duration.ofSeconds(15), Duration.ofMillis(250), () -> {
      assertEquals(Set.of("s1"), rebalance(Map.of(a, List.of(), b, List.of("s1"), agent, List.of())));
      return null;
    });
  }
}
