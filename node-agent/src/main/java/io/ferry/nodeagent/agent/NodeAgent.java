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
   * {@code ferry.agent.fence-after}, where "auto" is 0.4 × the split brain resolver's stable-after:
   * the control side waits that long (plus a margin) after ordering a fence before it restarts a
   * node's VMs elsewhere (see {@link FenceLease}), so an agent may not take longer.
   */
  static Duration fenceAfter(Config config) {
    Duration stable = config.getDuration("ferry.agent.split-brain-stable-after");
    Duration auto = stable.multipliedBy(2).dividedBy(5);
    if (config.getString("ferry.agent.fence-after").equals("auto")) return auto;
    Duration fence = config.getDuration("ferry.agent.fence-after");
    if (fence.compareTo(auto) > 0) {
      throw new IllegalArgumentException("ferry.agent.fence-after (" + fence.toMillis() + " ms) must not exceed 0.4 x the split brain "
          + "resolver's stable-after (" + auto.toMillis() + " ms): the control plane restarts a fenced node's VMs after that,"
          + " so a slower agent's VMs could run twice; use \"auto\"");
    }
    return fence;
  }

  /**
   * When this member shuts down, its QEMUs are killed first if it fenced itself, or if it was
   * downed and its fence lease no longer holds (an order may exist that it cannot read). A member
   * downed while its lease holds (the control plane crashed or restarted: nobody will restart its
   * VMs), one that ends to rejoin, and an ordinary stop leave them for the next incarnation to
   * re-attach.
   */
  private static void fenceOnDowning(ActorSystem<Void> system, CompletableFuture<ActorRef<Object>> agent, FenceLease lease,
      HandleStore handles) {
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "fence-qemus", () -> {
      var reason = CoordinatedShutdown.get(system).getShutdownReason();
      MemberStatus status = Cluster.get(system).selfMember().status();
      boolean downed = reason.map(r -> r == CoordinatedShutdown.clusterDowningReason()).orElse(false) || status == MemberStatus.down();
      boolean fence = lease.fenced() || reason.map(r -> r instanceof Fencing.FencedReason).orElse(false) || (downed && !lease.valid());
      if (!fence) {
        if (downed) system.log().warn("this member was downed, but no fence order names it and its lease holds (renewed {} ms ago):"
            + " keeping the VMs", lease.millisSinceRenewal());
        return CompletableFuture.completedFuture(Done.getInstance());
      }
      String why = "this member fenced itself or was downed without a fresh lease (" + reason.map(Object::toString).orElse(status.toString()) + ")";
      lease.fence(why);
      return agent.thenCompose(a -> AskPattern.<Object, Integer>ask(a, r -> new NodeAgentActor.Fence(why, r), Duration.ofSeconds(5),
          system.scheduler())).handle((killed, e) -> {
            handles.killAll();
            return Done.getInstance();
          }).thenCompose(done -> io.ferry.journal.JournalCut.cut(system));
    });
  }

  /**
   * Runs the agent of one node until it is stopped or fences: a member ended by a rejoin (the
   * control plane went away) or downed while its lease holds is followed by a new member that
   * joins the seed nodes again and re-attaches to the QEMUs, which ran on meanwhile.
   *
   * @return the process's exit code: 0 when stopped, 4 when it fenced itself
   */
  public static int run(Config config, java.util.function.Consumer<ActorSystem<Void>> started) {
    Config withRoles = withPluginRoles(config, plugins());
    try (FenceLease lease = new FenceLease(fenceAfter(withRoles));
         FenceReader reader = FenceReader.start(withRoles, AgentSettings.from(withRoles).nodeId(), lease);
         AgentMetrics metrics = AgentMetrics.start(withRoles, AgentSettings.from(withRoles), lease)) {
      while (true) {
        if (lease.fenced()) return 4; // between two members (an order read meanwhile): the QEMUs are killed already
        ActorSystem<Void> system = start(config, lease, metrics);
        started.accept(system);
        system.getWhenTerminated().toCompletableFuture().join();
        var reason = CoordinatedShutdown.get(system).getShutdownReason();
        boolean rejoin = reason.map(r -> r instanceof Fencing.RejoinReason || r == CoordinatedShutdown.clusterDowningReason()).orElse(false);
        if (lease.fenced()) return 4;
        if (!rejoin) return 0;
        system.log().info("joining the control plane again with a new member; the VMs run on meanwhile");
        try {
          Thread.sleep(REJOIN_PAUSE.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return 0;
        }
      }
    }
  }

  private static final java.util.concurrent.atomic.AtomicBoolean warned = new java.util.concurrent.atomic.AtomicBoolean();
  private static volatile Runnable warnTo;
  private static final java.util.concurrent.atomic.AtomicBoolean catching = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Catches the batch system's expiry warning (USR1) from now on: remembered, and passed to the
   * current member's agent (or to the next one, when it comes while no member runs). Without it,
   * a warning that came while the JVM started the agent ended the process (USR1's default action):
   * the fault campaign's 2-minute timeslots got theirs 13 s after the job began and died.
   */
  static void catchWarnings() {
    if (!catching.compareAndSet(false, true)) return;
    sun.misc.Signal.handle(new sun.misc.Signal("USR1"), signal -> {
      warned.set(true);
      Runnable to = warnTo;
      if (to != null) to.run();
    });
  }

  /** Between two incarnations: long enough for the old member's port to be free. */
  private static final Duration REJOIN_PAUSE = Duration.ofSeconds(1);

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

  /** Starts the member and the agent of the node its settings name, with a fence lease of its own. */
  public static ActorSystem<Void> start(Config given) {
    Config withRoles = withPluginRoles(given, plugins());
    FenceLease lease = new FenceLease(fenceAfter(withRoles));
    FenceReader reader = FenceReader.start(withRoles, AgentSettings.from(withRoles).nodeId(), lease);
    AgentMetrics metrics = AgentMetrics.start(withRoles, AgentSettings.from(withRoles), lease);
    ActorSystem<Void> system = start(given, lease, metrics);
    system.getWhenTerminated().thenRun(() -> {
      metrics.close();
      reader.close();
      lease.close();
    });
    return system;
  }

  /** Starts one incarnation of the agent under {@code lease}, its figures going to {@code metrics}. */
  static ActorSystem<Void> start(Config given, FenceLease lease, AgentMetrics metrics) {
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
      Config c = context.getSystem().settings().config();
      context.spawn(Fencing.create(c.getString("ferry.agent.control-role"), lease, c.getDuration("ferry.agent.rejoin-after")), "fencing");
      for (AgentMemberPlugin plugin : plugins) {
        context.getLog().info("agent member also runs {}", plugin.getClass().getName());
        plugin.start(context, settings, ref);
      }
      return Behaviors.empty();
    }), "ferry", config);
    // Slurm's --signal=B:USR1@lead (and the local backend) warn the job, whose script passes it on to this process
    catchWarnings();
    warnTo = () -> agent.thenAccept(a -> a.tell(new NodeAgentActor.Warned()));
    if (warned.get()) warnTo.run();
    HandleStore handles = new HandleStore(settings.stateDir().resolve("handles"));
    lease.onFence(() -> {
      // Kill first, without waiting for anything that may hang; then end the member.
      int killed = handles.killAll();
      system.log().error("fenced: killed {} QEMUs of node {}", killed, settings.nodeId());
      agent.thenAccept(a -> a.tell(new NodeAgentActor.Fence("fenced", system.ignoreRef())));
      CoordinatedShutdown.get(system).run(new Fencing.FencedReason());
    });
    fenceOnDowning(system, agent, lease, handles);
    metrics.attach(system, driver);
    system.getWhenTerminated().thenRun(() -> {
      driver.detachAll();
      pool.shutdownNow();
    });
    return system;
  }
}
