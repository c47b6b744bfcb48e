package io.ferry.nodeagent.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QMP client against a peer that misbehaves in ways real QEMU is not relied on to show. */
class QmpClientTest {
  @TempDir Path dir;

  private QmpClient connected(FakeQmpServer server) throws Exception {
    server.acceptInBackground(true);
    CompletableFuture<QmpClient> client = CompletableFuture.supplyAsync(() -> QmpClient.connect(server.socket, Duration.ofSeconds(3)));
    server.negotiate();
    return client.get(5, TimeUnit.SECONDS);
  }

  @Test
  void repliesArriveByIdInAnyOrder() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir); QmpClient client = connected(server)) {
      var status = client.executeAsync("query-status", Map.of());
      var version = client.executeAsync("query-version", Map.of());
      String first = server.nextLine();
      String second = server.nextLine();
      server.send("{\"return\": {\"qemu\": {\"major\": 7}}, \"id\": \"" + FakeQmpServer.idOf(second) + "\"}");
      server.send("{\"return\": {\"status\": \"running\"}, \"id\": \"" + FakeQmpServer.idOf(first) + "\"}");
      assertEquals("running", status.get(2, TimeUnit.SECONDS).path("status").asText());
      assertEquals(7, version.get(2, TimeUnit.SECONDS).path("qemu").path("major").asInt());
    }
  }

  @Test
  void malformedLinesAndStrayRepliesAreSkipped() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir); QmpClient client = connected(server)) {
      var reply = client.executeAsync("query-status", Map.of());
      String id = FakeQmpServer.idOf(server.nextLine());
      server.send("this is not json {");
      server.send("[1, 2, 3]");
      server.send("{\"return\": {}, \"id\": \"nobody-waits-for-this\"}");
      server.send("{\"something\": \"else\"}");
      server.send("{\"return\": {\"status\": \"paused\"}, \"id\": \"" + id + "\"}");
      assertEquals("paused", reply.get(2, TimeUnit.SECONDS).path("status").asText());
      assertTrue(client.isOpen());
    }
  }

  @Test
  void aTruncatedReplyThenAClosedSocketFailsTheWaitingCommand() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir); QmpClient client = connected(server)) {
      var reply = client.executeAsync("query-status", Map.of());
      server.nextLine();
      server.sendRaw("{\"return\": {\"sta");
      server.dropClient();
      var error = assertThrows(ExecutionException.class, () -> reply.get(2, TimeUnit.SECONDS));
      assertTrue(error.getCause() instanceof QmpException.ConnectionLost, error.getCause().toString());
      client.whenClosed().get(2, TimeUnit.SECONDS);
      var after = assertThrows(QmpException.ConnectionLost.class, () -> client.execute("query-status"));
      assertTrue(after.getMessage().contains("closed"), after.getMessage());
    }
  }

  @Test
  void qemuErrorsBecomeTypedExceptionsWithQemusMessage() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir); QmpClient client = connected(server)) {
      var reply = client.executeAsync("migrate", Map.of("uri", "tcp:nowhere:1"));
      String id = FakeQmpServer.idOf(server.nextLine());
      server.send("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Failed to connect\"}, \"id\": \"" + id + "\"}");
      var error = assertThrows(ExecutionException.class, () -> reply.get(2, TimeUnit.SECONDS));
      var qemu = (QmpException.QemuError) error.getCause();
      assertEquals("GenericError", qemu.errorClass());
      assertTrue(qemu.getMessage().contains("Failed to connect"), qemu.getMessage());
      assertTrue(qemu.getMessage().contains("migrate"), qemu.getMessage());
    }
  }

  @Test
  void eventsBetweenRepliesGoToListeners() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir); QmpClient client = connected(server)) {
      var events = new LinkedBlockingQueue<QmpEvent>();
      client.addEventListener(events::add);
      var reply = client.executeAsync("stop", Map.of());
      String id = FakeQmpServer.idOf(server.nextLine());
      server.send("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, \"event\": \"STOP\"}");
      server.send("{\"return\": {}, \"id\": \"" + id + "\"}");
      reply.get(2, TimeUnit.SECONDS);
      QmpEvent event = events.poll(2, TimeUnit.SECONDS);
      assertEquals("STOP", event.name());
      assertEquals(1700000000L, event.timestamp().getEpochSecond());
    }
  }

  @Test
  void aCommandWithoutAnswerTimesOut() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir); QmpClient client = connected(server)) {
      var error = assertThrows(QmpException.Timeout.class, () -> client.execute("query-status", Map.of(), Duration.ofMillis(200)));
      assertTrue(error.getMessage().contains("did not answer query-status"), error.getMessage());
    }
  }

  @Test
  void aSocketThatNeverGreetsIsReportedAsSuch() throws Exception {
    try (FakeQmpServer server = new FakeQmpServer(dir)) {
      server.acceptInBackground(false);
      var error = assertThrows(QmpException.Timeout.class, () -> QmpClient.connect(server.socket, Duration.ofMillis(500)));
      assertTrue(error.getMessage().contains("never answered"), error.getMessage());
    }
  }

  @Test
  void aMissingSocketIsReportedAsSuch() {
    var error = assertThrows(QmpException.ConnectionLost.class, () -> QmpClient.connect(dir.resolve("none.qmp"), Duration.ofMillis(200)));
    assertTrue(error.getMessage().contains("does not exist"), error.getMessage());
  }
}
