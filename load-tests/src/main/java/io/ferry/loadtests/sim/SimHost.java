package io.ferry.loadtests.sim;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.journal.FerrySerializable;
import io.ferry.nodeagent.agent.AgentMemberPlugin;
import io.ferry.nodeagent.agent.AgentSettings;
import io.ferry.nodeagent.agent.NodeAgent;
import io.ferry.nodeagent.driver.simulated.SimulatedDriver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * An agent member that runs the agents of many simulated nodes (a fake cluster for load tests):
 * one real {@code NodeAgentActor} per node, each with its own process-less {@link SimulatedDriver},
 * registering its node with the control plane exactly as a node agent in a batch job does; the
 * member hosts the Vm entities of all of them (the control plane's hosting plugin). The
 * {@link SimulatedBatchSystem} on the control member starts, warns and ends nodes here as a batch
 * system starts, signals and kills jobs. What is not real: no QEMU, and one member (one failure
 * domain, no fencing) stands for many nodes.
 */
public final class SimHost {
  /** The hosts register under this key; the simulated batch system finds them with it. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "ferry-sim-host");

  /** What the simulated batch system tells a host. */
  public sealed interface Command extends FerrySerializable permits StartNode, WarnNode, EndNode {}

  /** A job started on {@code nodeId}: run its agent, with the job's resources as the node's capacity. */
  public record StartNode(String nodeId, String timeslotId, String jobId, int cores, int memoryMiB) implements Command {}

  /** The job's early-warning signal (USR1 in a real job). */
  public record WarnNode(String nodeId, String jobId) implements Command {}

  /** The job ended (walltime, cancel): its VMs die with it and its agent stops. */
  public record EndNode(String nodeId, String jobId) implements Command {}

  private record Running(ActorRef<Object> agent, SimulatedDriver driver) {}

  private SimHost() {}

  /**
   * Starts a host member with {@code config} (an agent member's configuration, see
   * {@link NodeAgent#config}; {@code ferry.agent.node-id} names the host, the simulated driver's
   * settings apply to every node).
   */
  public static ActorSystem<Command> start(Config given) {
    List<AgentMemberPlugin> plugins = NodeAgent.plugins();
    Config config = NodeAgent.withPluginRoles(given, plugins);
    AgentSettings hostSettings = AgentSettings.from(config);
    AtomicInteger threads = new AtomicInteger();
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "sim-" + hostSettings.nodeId() + "-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    ActorSystem<Command> system = ActorSystem.create(guardian(config, hostSettings, plugins, pool), "ferry", config);
    system.getWhenTerminated().thenRun(pool::shutdownNow);
    return system;
  }

  private static Behavior<Command> guardian(Config config, AgentSettings hostSettings, List<AgentMemberPlugin> plugins,
      ExecutorService pool) {
    return Behaviors.setup(context -> {
      for (AgentMemberPlugin plugin : plugins) plugin.start(context, hostSettings, null);
      context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
      Map<String, Running> nodes = new HashMap<>();
      return Behaviors.receive(Command.class)
          .onMessage(StartNode.class, s -> {
            String key = s.nodeId() + "/" + s.jobId();
            if (nodes.containsKey(key)) return Behaviors.same(); // a repeated start
            AgentSettings settings = AgentSettings.from(config
                .withValue("ferry.agent.node-id", ConfigValueFactory.fromAnyRef(s.nodeId()))
                .withValue("ferry.agent.timeslot-id", ConfigValueFactory.fromAnyRef(s.timeslotId()))
                .withValue("ferry.agent.job-id", ConfigValueFactory.fromAnyRef(s.jobId()))
                .withValue("ferry.agent.cores", ConfigValueFactory.fromAnyRef(s.cores()))
                .withValue("ferry.agent.memory-mib", ConfigValueFactory.fromAnyRef(s.memoryMiB()))
                .withValue("ferry.agent.state-dir", ConfigValueFactory.fromAnyRef(
                    hostSettings.stateDir().resolve(s.nodeId() + "-" + s.jobId()).toString())));
            SimulatedDriver driver = (SimulatedDriver) settings.newDriver();
            ActorRef<Object> agent = context.spawn(NodeAgent.agent(settings, driver, pool), "node-" + s.nodeId() + "-job-" + s.jobId());
            nodes.put(key, new Running(agent, driver));
            return Behaviors.same();
          })
          .onMessage(WarnNode.class, w -> {
            Running r = nodes.get(w.nodeId() + "/" + w.jobId());
            if (r != null) r.agent().tell(NodeAgent.warning());
            return Behaviors.same();
          })
          .onMessage(EndNode.class, e -> {
            Running r = nodes.remove(e.nodeId() + "/" + e.jobId());
            if (r != null) {
              int killed = r.driver().killAll();
              context.stop(r.agent());
              if (killed > 0) context.getLog().info("node {}: job {} ended with {} VM(s) still on it", e.nodeId(), e.jobId(), killed);
            }
            return Behaviors.same();
          })
          .build();
    });
  }
}
