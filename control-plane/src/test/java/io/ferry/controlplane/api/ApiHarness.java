package io.ferry.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.cli.UsersFile;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.TimeslotRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A control member with its HTTP API on a free port, against the real Cassandra, with three users:
 * two ordinary ones and an admin, named uniquely per run so runs never see each other's data.
 */
final class ApiHarness implements AutoCloseable {
  final String run = UUID.randomUUID().toString().substring(0, 6);
  final String alice = "alice" + run;
  final String bob = "bob" + run;
  final String aliceToken;
  final String bobToken;
  final String adminToken;
  final Path dir;
  final ActorSystem<Void> control;
  final String url;
  final Entities entities;
  final HttpClient http = HttpClient.newHttpClient();

  record Reply(int status, JsonNode json, String contentType) {}

  ApiHarness(String keyspace) throws IOException {
    dir = Files.createTempDirectory("ferry-api");
    Path users = dir.resolve("users.json");
    aliceToken = UsersFile.addUser(users, alice, false);
    bobToken = UsersFile.addUser(users, bob, false);
    adminToken = UsersFile.addUser(users, "admin" + run, true);
    Config overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.timeslots.enabled", ConfigValueFactory.fromAnyRef(false))
        .withValue("ferry.api.users-file", ConfigValueFactory.fromAnyRef(users.toString()))
        .withValue("ferry.api.heartbeat-interval", ConfigValueFactory.fromAnyRef("1s"))
        .withValue("ferry.control.agent-lookup-timeout", ConfigValueFactory.fromAnyRef("1s"));
    control = ControlPlane.start(ControlPlane.config(overrides.withFallback(ConfigFactory.empty())));
    url = "http:/" + ControlPlane.api(control).toCompletableFuture().join().localAddress();
    entities = new Entities(control, Duration.ofSeconds(20));
  }

  Reply call(String method, String path, String token, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(30));
    if (token != null) b.header("Authorization", "Bearer " + token);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = r.body().isBlank() ? null : ApiJson.MAPPER.readTree(r.body());
      return new Reply(r.statusCode(), json, r.headers().firstValue("Content-Type").orElse(""));
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** An active timeslot owned by {@code owner} on {@code node}, as the batch system would report it. */
  String activeTimeslot(String owner, String node) {
    String id = "ts-" + UUID.randomUUID().toString().substring(0, 8);
    Instant now = Instant.now();
    entities.timeslot(id, r -> new Timeslot.RequestTimeslot(owner, new TimeslotRequest(4, 4096, Duration.ofHours(1), ""),
        "local", Cause.user(owner), r)).toCompletableFuture().join();
    entities.timeslot(id, r -> new Timeslot.RecordSubmitted("1", r)).toCompletableFuture().join();
    entities.timeslot(id, r -> new Timeslot.Activate(node, now, now.plusSeconds(3600), r)).toCompletableFuture().join();
    return id;
  }

  @Override
  public void close() {
    control.terminate();
  }
}
