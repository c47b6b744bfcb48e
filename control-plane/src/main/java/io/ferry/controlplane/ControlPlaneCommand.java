package io.ferry.controlplane;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.journal.CassandraPreflight.CassandraUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.typed.Cluster;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry-control}: runs one control member until it is stopped (SIGTERM or Ctrl-C). */
@Command(name = "ferry-control", mixinStandardHelpOptions = true, version = "ferry-control 0.1.0",
    description = "Runs a Ferry control member: a Pekko Cluster member (role 'control') that hosts"
        + " the Vm, Timeslot and Node entities and journals their events in Cassandra. Without --seed"
        + " it founds a new cluster; with --seed it joins an existing one.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped cleanly", "2:bad arguments or port in use", "3:Cassandra not reachable"})
public final class ControlPlaneCommand implements Callable<Integer> {

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind and advertise (default: ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", defaultValue = "25520", description = "cluster port, 0 for any free one (default: ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--seed", paramLabel = "HOST:PORT", description = "a member to join; repeatable")
  List<String> seeds = new ArrayList<>();

  @Option(names = "--api-port", description = "HTTP API port, 0 for any free one (default: ferry.api.port, 8080)")
  Integer apiPort;

  @Option(names = "--no-api", description = "do not serve the HTTP API on this member")
  boolean noApi;

  @Option(names = "--cassandra", paramLabel = "HOST:PORT",
      description = "Cassandra's CQL address (default: $FERRY_CASSANDRA or 127.0.0.1:9042)")
  String cassandra;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ControlPlaneCommand()).execute(args));
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) return true;
    }
    return false;
  }

  @Override
  public Integer call() throws Exception {
    Config overrides = ControlPlane.overrides(host, port, seeds)
        .withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef(true));
    if (apiPort != null) overrides = overrides.withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(apiPort));
    if (noApi) overrides = overrides.withValue("ferry.api.enabled", ConfigValueFactory.fromAnyRef(false));
    if (cassandra != null) {
      overrides = overrides.withValue("ferry.cassandra.contact-points", ConfigValueFactory.fromAnyRef(cassandra));
    }
    Config config = ControlPlane.config(overrides.withFallback(ConfigFactory.empty()));
    ActorSystem<Void> system;
    try {
      system = ControlPlane.start(config);
    } catch (CassandraUnavailableException e) {
      System.err.println("error: " + e.getMessage());
      return 3;
    } catch (RuntimeException e) {
      if (causedBy(e, java.net.BindException.class)) {
        System.err.println("error: cannot listen on " + host + ":" + port + ": the port is in use"
            + " (another member already runs there?). Choose another one with --port, or 0 for any free port.");
        return 2;
      }
      throw e;
    }
    String api;
    try {
      if (config.getBoolean("ferry.api.enabled")) {
        System.out.println("ferry-control: started; waiting for sharding and the read side before the HTTP API listens on "
            + config.getString("ferry.api.host") + ":" + config.getInt("ferry.api.port"));
      }
      api = config.getBoolean("ferry.api.enabled")
          ? ", API http:/" + ControlPlane.api(system).toCompletableFuture().join().localAddress()
          : ", API disabled";
    } catch (RuntimeException e) {
      System.err.println("error: the HTTP API cannot listen on " + config.getString("ferry.api.host") + ":"
          + config.getInt("ferry.api.port") + " (" + e.getMessage() + "); choose another with --api-port");
      system.terminate();
      return 2;
    }
    String apiText = api;
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> System.out.println(
        "ferry-control up: " + Cluster.get(system).selfMember().address() + " roles "
            + Cluster.get(system).selfMember().getRoles() + ", journal in Cassandra at "
            + config.getString("ferry.cassandra.contact-points") + apiText));
    system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
