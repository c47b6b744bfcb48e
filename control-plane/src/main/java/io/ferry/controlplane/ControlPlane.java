package io.ferry.controlplane;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.controlplane.agents.AgentGateway;
import io.ferry.controlplane.agents.NodeWatcher;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.api.HttpApi;
import io.ferry.controlplane.batch.BatchSystems;
import io.ferry.controlplane.timeslots.Evacuation;
import io.ferry.controlplane.timeslots.TimeslotKeeper;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import io.ferry.controlplane.agents.ReceptionistAgentLink;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.CassandraPreflight;
import io.ferry.journal.agent.AgentReport;
import java.time.Duration;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.ServerBinding;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A control member: a Pekko Cluster member with role {@code control} that hosts the shards of
 * the Timeslot, Node and idle Vm entities. {@link ControlPlaneCommand} is its command line.
 */
public final class ControlPlane {
  public static final String SYSTEM_NAME = "ferry";

  /** By identity: actor systems compare equal by name, and tests run several named "ferry". */
  /**
   * Each member's API binding, completed by its guardian once it has started everything before
   * the API (sharding, the read side; slow while Cassandra warms up or a coordinator replays its
   * journal). A future per member, not a value polled for a while: start-up waits on the real
   * binding however long it takes (finding 4 of "a core that never lies": a 5 s poll reported a
   * slow start as "the HTTP API is not enabled").
   */
  private static final Map<ActorSystem<?>, CompletableFuture<CompletionStage<ServerBinding>>> API_BINDINGS =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  private static CompletableFuture<CompletionStage<ServerBinding>> bindingOf(ActorSystem<?> system) {
    return API_BINDINGS.computeIfAbsent(system, s -> new CompletableFuture<>());
  }

  private ControlPlane() {}

  /**
   * Where this member's HTTP API listens, once it does: completes when the guardian has bound it
   * (fails if it could not bind, is disabled, or the member ended before).
   */
  public static CompletionStage<ServerBinding> api(ActorSystem<?> system) {
    if (!system.settings().config().getBoolean("ferry.api.enabled")) {
      return CompletableFuture.failedFuture(new IllegalStateException("the HTTP API is not enabled on this member (ferry.api.enabled)"));
    }
    return bindingOf(system).thenCompose(b -> b);
  }

  /**
   * The configuration of a control member: {@code overrides} (for example from the command line)
   * over system properties, {@code ferry-control.conf}, application.conf and the reference.confs.
   */
  public static Config config(Config overrides) {
    return ConfigFactory.load(overrides.withFallback(ConfigFactory.parseResources("ferry-control.conf")));
  }

  /** Overrides for a member at {@code hostname:port} joining {@code seeds} ("host:port" each). */
  public static Config overrides(String hostname, int port, List<String> seeds) {
    List<String> seedAddresses = seeds.stream()
        .map(s -> "pekko://" + SYSTEM_NAME + "@" + s)
        .collect(Collectors.toList());
    return ConfigFactory.empty()
        .withValue("ferry.control.hostname", ConfigValueFactory.fromAnyRef(hostname))
        .withValue("ferry.control.port", ConfigValueFactory.fromAnyRef(port))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seedAddresses));
  }

  /**
   * Checks that Cassandra answers, then starts the member; with no seed nodes it founds the
   * cluster by joining itself.
   *
   * @throws CassandraPreflight.CassandraUnavailableException if Cassandra does not answer
   */
  public static ActorSystem<Void> start(Config config) {
    return start(config, List.of());
  }

  /**
   * As {@link #start(Config)}, with more batch backends than the configured ones (the load tests'
   * simulated batch system); each is used under its {@link io.ferry.controlplane.batch.BatchSystem#name()}.
   */
  public static ActorSystem<Void> start(Config config, List<io.ferry.controlplane.batch.BatchSystem> moreBackends) {
    CassandraPreflight.check(config);
    ActorSystem<Void> system = ActorSystem.create(guardian(moreBackends), SYSTEM_NAME, config);
    forgetWhenTerminated(system);
    cutJournalWhenDowned(system);
    if (config.getList("pekko.cluster.seed-nodes").isEmpty()) {
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    return system;
  }

  /**
   * A member downed by the Split Brain Resolver (cut off from the majority) closes its journal
   * session first thing in its shutdown, so that writes it sent into a partition cannot land after
   * the surviving side has taken its entities over ({@link io.ferry.journal.JournalCut}).
   */
  private static void cutJournalWhenDowned(ActorSystem<Void> system) {
    org.apache.pekko.actor.CoordinatedShutdown shutdown = org.apache.pekko.actor.CoordinatedShutdown.get(system);
    shutdown.addTask(org.apache.pekko.actor.CoordinatedShutdown.PhaseBeforeServiceUnbind(), "cut-journal-when-downed", () ->
        shutdown.getShutdownReason().filter(r -> r == org.apache.pekko.actor.CoordinatedShutdown.clusterDowningReason()).isPresent()
            ? io.ferry.journal.JournalCut.cut(system) : java.util.concurrent.CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance()));
  }

  private static Behavior<Void> guardian(List<io.ferry.controlplane.batch.BatchSystem> moreBackends) {
    return Behaviors.setup(context -> {
      ActorSystem<?> system = context.getSystem();
      String role = system.settings().config().getString("ferry.control.role");
      Clock clock = Clock.systemUTC();
      ActorRef<AgentReport> gateway = context.spawn(AgentGateway.create(), "agent-gateway");
      Duration lookup = system.settings().config().getDuration("ferry.control.agent-lookup-timeout");
      Vm.init(system, clock, new ReceptionistAgentLink(system, gateway, lookup));
      var config = system.settings().config();
      var self = system.address();
      BatchSystems batch = config.getBoolean("ferry.timeslots.enabled")
          ? new BatchSystems(config, clock, self.getHost().get() + ":" + self.getPort().get(), moreBackends) : null;
      Timeslot.init(system, role, clock, batch);
      Node.init(system, role, clock);
      io.ferry.controlplane.entity.Policy.init(system, role, clock);
      boolean publicMetrics = config.getBoolean("ferry.metrics.public");
      io.ferry.controlplane.metrics.ControlMetrics metrics = new io.ferry.controlplane.metrics.ControlMetrics();
      Catalog catalog = Catalog.follow(system, metrics::event);
      metrics.gauges(io.ferry.controlplane.metrics.ControlMetrics.Source.of(catalog), !publicMetrics);
      new io.ferry.journal.NodeFences(system).createTable().whenComplete(Entities.logFailure(context.getLog(),
          "creating the fence-order table (node watcher writes create it otherwise)"));
      ClusterSingleton.get(system).init(SingletonActor.of(NodeWatcher.create(catalog, Entities.of(system)), "node-watcher")
          .withSettings(ClusterSingletonSettings.create(system).withRole(role)));
      if (batch != null) {
        system.getWhenTerminated().thenRun(batch::close);
        Evacuation evacuation = new Evacuation(catalog, Entities.of(system), clock, batch.warningLead(), config, metrics.policyRuns());
        ClusterSingleton.get(system).init(SingletonActor.of(TimeslotKeeper.create(catalog, Entities.of(system), batch,
            evacuation, clock, config.getDuration("ferry.timeslots.tick")), "timeslot-keeper")
            .withSettings(ClusterSingletonSettings.create(system).withRole(role)));
      }
      if (config.getBoolean("ferry.api.enabled")) {
        CompletionStage<ServerBinding> binding = HttpApi.start(system, Entities.of(system), catalog, metrics);
        binding.thenAccept(b -> b.addToCoordinatedShutdown(Duration.ofSeconds(3), system));
        bindingOf(system).complete(binding);
        system.getWhenTerminated().thenRun(() -> API_BINDINGS.remove(system));
      }
      return Behaviors.empty();
    });
  }

  /** Fails the wait on the API of a member that ended before binding it. */
  static void forgetWhenTerminated(ActorSystem<?> system) {
    system.getWhenTerminated().thenRun(() -> {
      var pending = API_BINDINGS.remove(system);
      if (pending != null) pending.completeExceptionally(new IllegalStateException("the control member ended before its HTTP API was up"));
    });
  }
}
