package io.ferry.nodeagent.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.nodeagent.driver.HypervisorDriver;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Starts an agent member: a Pekko Cluster member with role {@code agent} running the
 * {@link NodeAgentActor} of one node. Its QEMU processes are its own children; when the agent
 * exits they live on, and the next agent of the node re-attaches to them.
 */
public final class NodeAgent {
  private NodeAgent() {}

  /** The agent's configuration: {@code overrides} over {@code ferry-agent.conf} and the reference.confs. */
  public static Config config(Config overrides) {
    Config merged = ConfigFactory.load(overrides.withFallback(ConfigFactory.parseResources("ferry-agent.conf")));
    List<String> seeds = merged.getStringList("ferry.agent.seed-nodes").stream()
        .map(s -> "pekko://ferry@" + s).collect(Collectors.toList());
    return ConfigFactory.empty().withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        .withFallback(merged);
  }

  /** Starts the member and the agent of the node its settings name. */
  public static ActorSystem<Void> start(Config config) {
    AgentSettings settings = AgentSettings.from(config);
    HypervisorDriver driver = settings.newDriver();
    AtomicInteger threads = new AtomicInteger();
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "agent-" + settings.nodeId() + "-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    java.util.concurrent.CompletableFuture<org.apache.pekko.actor.typed.ActorRef<Object>> agent = new java.util.concurrent.CompletableFuture<>();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(context -> {
      org.apache.pekko.actor.typed.ActorRef<Object> ref = context.spawn(NodeAgentActor.create(settings, driver, pool), "agent");
      agent.complete(ref);
      for (AgentMemberPlugin plugin : java.util.ServiceLoader.load(AgentMemberPlugin.class)) {
        context.getLog().info("agent member also runs {}", plugin.getClass().getName());
        plugin.start(context, settings, ref);
      }
      return Behaviors.empty();
    }), "ferry", config);
    // Slurm's --signal=B:USR1@lead (and the local backend) warn the job's main process: this one.
    sun.misc.Signal.handle(new sun.misc.Signal("USR1"), signal -> agent.thenAccept(a -> a.tell(new NodeAgentActor.Warned())));
    system.getWhenTerminated().thenRun(() -> {
      driver.detachAll();
      pool.shutdownNow();
    });
    return system;
  }
}
