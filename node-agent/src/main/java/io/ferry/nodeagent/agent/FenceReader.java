package io.ferry.nodeagent.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.ferry.journal.NodeFences;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The agent process's reader of its node's fence orders: a small local actor system (no cluster,
 * no remoting) that holds the Cassandra session of the journal plugin for the whole life of the
 * process, so the reads that renew the {@link FenceLease} go on while the agent's cluster member
 * ends and a new one starts (a rejoin after a control-plane restart takes longer than
 * fence-after). The fault campaign found the gap: with the reads in the member, a rejoin ran the
 * lease out and the agent killed the VMs it was rejoining to keep.
 */
final class FenceReader implements AutoCloseable {
  private final ActorSystem<Void> system;

  private FenceReader(ActorSystem<Void> system) {
    this.system = system;
  }

  /** Starts reading the orders of {@code nodeId} (settings from the agent's {@code config}) into {@code lease}. */
  static FenceReader start(Config config, String nodeId, FenceLease lease) {
    Config local = ConfigFactory.parseString("""
        pekko.actor.provider = local
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.coordinated-shutdown.run-by-actor-system-terminate = on
        """).withFallback(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ferry-fence-reader", local);
    NodeFences fences = new NodeFences(system);
    Duration interval = config.getDuration("ferry.agent.fence-check-interval");
    lease.startReading(incarnations -> fences.ordered(nodeId, incarnations), interval);
    return new FenceReader(system);
  }

  @Override
  public void close() {
    system.terminate();
  }
}
