package io.ferry.nodeagent.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.nodeagent.driver.HypervisorDriver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
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

  /**
   * {@code ferry.agent.fence-after}, where "auto" is 0.4 × the split brain resolver's stable-after
   * (see {@link Fencing} for why it must stay well below it).
   */
  static Duration fenceAfter(Config config) {
    Duration stable = config.getDuration("ferry.agent.split-brain-stable-after");
    if (config.getString("ferry.agent.fence-after").equals("auto")) return stable.multipliedBy(2).dividedBy(5);
    Duration fence = config.getDuration("ferry.agent.fence-after");
    if (fence.compareTo(stable) >= 0) {
      throw new IllegalArgumentException("ferry.agent.fence-after (" + fence.toMillis() + " ms) must be shorter than the split brain "
          + "resolver's stable-after (" + stable.toMillis() + " ms), or a cut-off agent's VMs may run twice; use \"auto\"");
    }
    return fence;
  }

  /**
   * When this member shuts down because it was downed (the split brain resolver, on either side,
   * decided it must go) or because it fenced itself, its QEMUs are killed first: others restart its
   * VMs. On any other shutdown (a restart, a stop) they live on for the next agent to re-attach.
   */
  private static void fenceOnDowning(ActorSystem<Void> system, CompletableFuture<ActorRef<Object>> agent) {
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "fence-qemus", () -> {
      var reason = CoordinatedShutdown.get(system).getShutdownReason();
      MemberStatus status = Cluster.get(system).selfMember().status();
      boolean downed = reason.map(r -> r instanceof Fencing.FencedReason || r == CoordinatedShutdown.clusterDowningReason()).orElse(false)
          || status == MemberStatus.down();
      if (!downed) return CompletableFuture.completedFuture(Done.getInstance());
      String why = "this member was downed or fenced itself (" + reason.map(Object::toString).orElse(status.toString()) + ")";
      return agent.thenCompose(a -> AskPattern.<Object, Integer>ask(a, r -> new NodeAgentActor.Fence(why, r), Duration.ofSeconds(5),
          system.scheduler())).thenApply(killed -> Done.getInstance());
    });
  }

  /**
   * The behaviour of one node's agent, for members that host the agents of several nodes (the
   * simulated clusters of the load tests); {@link #start} is the ordinary one-node member.
   * Driver calls run on {@code pool}.
   */
  public static org.apache.pekko.actor.typed.Behavior<Object> agent(AgentSettings settings, HypervisorDriver driver,
      ExecutorService pool) {
    return NodeAgentActor.create(settings, driver, pool);
  }

  /** The message that tells an agent the batch system's early warning came (as USR1 does). */
  public static Object warning() {
    return new NodeAgentActor.Warned();
  }

  /** The member plugins on the class path, and the roles the member takes on for them. */
  public static List<AgentMemberPlugin> plugins() {
    List<AgentMemberPlugin> plugins = new java.util.ArrayList<>();
    java.util.ServiceLoader.load(AgentMemberPlugin.class).forEach(plugins::add);
    return plugins;
  }

  /** {@code config} with the roles the plugins need added to {@code pekko.cluster.roles}. */
  public static Config withPluginRoles(Config config, List<AgentMemberPlugin> plugins) {
    List<String> roles = new java.util.ArrayList<>(config.getStringList("pekko.cluster.roles"));
    plugins.forEach(p -> p.roles(config).stream().filter(r -> !roles.contains(r)).forEach(roles::add));
    return ConfigFactory.empty().withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles)).withFallback(config);
  }

  /** Starts the member and the agent of the node its settings name. */
  public static ActorSystem<Void> start(Config given) {
    List<AgentMemberPlugin> plugins = plugins();
    Config config = withPluginRoles(given, plugins);
    AgentSettings settings = AgentSettings.from(config);
    HypervisorDriver driver = settings.newDriver();
    AtomicInteger threads = new AtomicInteger();
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "agent-" + settings.nodeId() + "-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    CompletableFuture<ActorRef<Object>> agent = new CompletableFuture<>();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(context -> {
      org.apache.pekko.actor.typed.ActorRef<Object> ref = context.spawn(NodeAgentActor.create(settings, driver, pool), "agent");
      agent.complete(ref);
      context.spawn(Fencing.create(context.getSystem().settings().config().getString("ferry.agent.control-role"),
          fenceAfter(context.getSystem().settings().config())), "fencing");
      for (AgentMemberPlugin plugin : plugins) {
        context.getLog().info("agent member also runs {}", plugin.getClass().getName());
        plugin.start(context, settings, ref);
      }
      return Behaviors.empty();
    }), "ferry", config);
    // Slurm's --signal=B:USR1@lead (and the local backend) warn the job's main process: this one.
    sun.misc.Signal.handle(new sun.misc.Signal("USR1"), signal -> agent.thenAccept(a -> a.tell(new NodeAgentActor.Warned())));
    fenceOnDowning(system, agent);
    system.getWhenTerminated().thenRun(() -> {
      driver.detachAll();
      pool.shutdownNow();
    });
    return system;
  }
}
