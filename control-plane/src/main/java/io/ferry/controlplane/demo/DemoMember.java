package io.ferry.controlplane.demo;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.controlplane.ControlPlane;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * How the demos join a running control plane: as an observer member (no API, no entities, no
 * timeslot keeper), so everything they show runs on the real control member.
 */
final class DemoMember {
  private DemoMember() {}

  /**
   * Starts the member and waits until it is Up.
   *
   * @throws io.ferry.journal.CassandraPreflight.CassandraUnavailableException if Cassandra does not answer
   */
  static ActorSystem<Void> join(String seed) {
    ActorSystem<Void> system = ControlPlane.start(ControlPlane.config(ControlPlane.overrides("127.0.0.1", 0, List.of(seed))
        .withValue("ferry.api.enabled", ConfigValueFactory.fromAnyRef(false))
        .withValue("ferry.timeslots.enabled", ConfigValueFactory.fromAnyRef(false))
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of("observer")))
        .withFallback(ConfigFactory.empty())));
    CompletableFuture<Void> up = new CompletableFuture<>();
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> up.complete(null));
    try {
      up.get(30, TimeUnit.SECONDS);
      return system;
    } catch (TimeoutException e) {
      system.terminate();
      throw new IllegalStateException("could not join the control plane at " + seed + " within 30 s"
          + " (is it running? ops/control-plane.sh start)");
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("could not join the control plane at " + seed + ": " + e, e);
    }
  }

  /** A demo's work on the member; may throw. */
  @FunctionalInterface
  interface Work {
    int run(ActorSystem<Void> system) throws Exception;
  }

  /**
   * Joins, runs {@code work} and leaves (waiting until the member has terminated); a Cassandra that
   * does not answer is one line on stderr and exit code 3.
   */
  static int with(String seed, Work work) throws Exception {
    ActorSystem<Void> system;
    try {
      system = join(seed);
    } catch (io.ferry.journal.CassandraPreflight.CassandraUnavailableException e) {
      System.err.println("error: " + e.getMessage());
      return 3;
    }
    try {
      return work.run(system);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }
}
