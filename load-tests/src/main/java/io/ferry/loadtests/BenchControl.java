package io.ferry.loadtests;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.cli.UsersFile;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * One control member in this JVM for a benchmark, on a keyspace of the run's own (dropped when it
 * closes) with one user: its API's URL, the user's token and the entities to drive.
 */
public final class BenchControl implements AutoCloseable {
  public final String run = UUID.randomUUID().toString().substring(0, 6);
  public final String user;
  public final String token;
  public final String keyspace = "ferry_bench_" + run;
  public final ActorSystem<Void> system;
  public final String url;
  public final Entities entities;

  /**
   * @param userPrefix the user's name before the run's id
   * @param settings configuration on top of the member's defaults (for example {@code ferry.timeslots.enabled = false})
   */
  public BenchControl(String userPrefix, Map<String, Object> settings) throws IOException {
    Path dir = Files.createTempDirectory("ferry-bench");
    user = userPrefix + run;
    token = UsersFile.addUser(dir.resolve("users.json"), user, false);
    Config overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.api.users-file", ConfigValueFactory.fromAnyRef(dir.resolve("users.json").toString()));
    for (Map.Entry<String, Object> s : settings.entrySet()) {
      overrides = overrides.withValue(s.getKey(), ConfigValueFactory.fromAnyRef(s.getValue()));
    }
    system = ControlPlane.start(ControlPlane.config(overrides.withFallback(ConfigFactory.empty())));
    url = "http:/" + ControlPlane.api(system).toCompletableFuture().join().localAddress();
    entities = new Entities(system, Duration.ofSeconds(20));
  }

  @Override
  public void close() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Cql.dropKeyspaces(keyspace);
  }
}
