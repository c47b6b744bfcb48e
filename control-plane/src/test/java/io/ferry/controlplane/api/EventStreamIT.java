package io.ferry.controlplane.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The event stream: a subscriber that drops mid-stream and resumes from its last offset gets
 * exactly the journal for its filter, in per-entity order, without duplicates, and never another
 * user's events; SSE and heartbeats; a bad offset is a 400.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventStreamIT {
  ApiHarness api;

  @BeforeAll
  void start() throws Exception {
    api = new ApiHarness(io.ferry.journal.testing.TestKeyspaces.fresh("ferry_it"));
  }

  @AfterAll
  void stop() {
    if (api != null) api.close();
  }

  private String vm(String token) {
    ApiHarness.Reply r = api.call("POST", "/v1/vms", token, "{\"flavour\":\"tiny\",\"image\":\"tiny\"}");
    assertEquals(201, r.status(), String.valueOf(r.json()));
    return r.json().path("id").asText();
  }

  private InputStream open(String query, String token, String accept) throws Exception {
    HttpResponse<InputStream> r = api.http.send(HttpRequest.newBuilder(URI.create(api.url + "/v1/events" + query))
        .header("Authorization", "Bearer " + token).header("Accept", accept).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /** Reads envelopes (skipping heartbeats) until {@code enough} says stop or 30 s pass. */
  private List<JsonNode> read(InputStream in, java.util.function.Predicate<List<JsonNode>> enough) throws Exception {
    List<JsonNode> got = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while (!enough.test(got) && System.nanoTime() < deadline && (line = reader.readLine()) != null) {
        JsonNode json = ApiJson.MAPPER.readTree(line);
        if (!json.path("type").asText().equals("heartbeat")) got.add(json);
      }
    }
    return got;
  }

  private long journalSize(Set<String> vms) {
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(api.control))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    long n = 0;
    for (String vm : vms) {
      n += journal.currentEventsByPersistenceId("Vm|" + vm, 0, Long.MAX_VALUE).runWith(Sink.seq(), api.control)
          .toCompletableFuture().join().size();
    }
    return n;
  }

  @Test
  void aSubscriberResumesFromItsLastOffsetWithNoGapNoDuplicateAndOnlyItsOwnEvents() throws Exception {
    Set<String> alices = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      String id = vm(api.aliceToken);
      alices.add(id);
      api.call("POST", "/v1/vms/" + id + "/stop", api.aliceToken, "{}");
    }
    String bobs = vm(api.bobToken);

    List<JsonNode> first = read(open("?type=vm&format=ndjson", api.aliceToken, "application/x-ndjson"), got -> got.size() >= 3);
    assertEquals(3, first.size(), "read three events, then dropped the connection");
    String resumeFrom = first.get(first.size() - 1).path("offset").asText();

    String later = vm(api.aliceToken);
    alices.add(later);
    api.call("POST", "/v1/vms/" + later + "/stop", api.aliceToken, "{}");
    api.call("DELETE", "/v1/vms/" + later, api.aliceToken, null);
    long expected = journalSize(alices);

    List<JsonNode> second = read(open("?type=vm&format=ndjson&since=" + resumeFrom, api.aliceToken, "application/x-ndjson"),
        got -> first.size() + got.size() >= expected);
    List<JsonNode> all = new ArrayList<>(first);
    all.addAll(second);

    Set<String> seen = new HashSet<>();
    Map<String, Long> lastSeq = new HashMap<>();
    for (JsonNode e : all) {
      String entity = e.path("entityId").asText();
      long seq = e.path("sequenceNr").asLong();
      assertTrue(seen.add(entity + "#" + seq), "duplicate " + entity + "#" + seq);
      assertEquals(api.alice, e.path("owner").asText(), "another user's event: " + e);
      assertTrue(seq > lastSeq.getOrDefault(entity, 0L), "out of order for " + entity);
      lastSeq.put(entity, seq);
      assertEquals(1, e.path("version").asInt());
      assertEquals("vm", e.path("entityType").asText());
    }
    assertTrue(!lastSeq.containsKey(bobs), "bob's VM in alice's stream");
    assertEquals(alices, lastSeq.keySet(), "every one of alice's VMs, and only those");
    assertEquals(expected, all.size(), "the union equals the journal for alice's VMs");
    assertEquals("VmDeleted", second.get(second.size() - 1).path("eventType").asText());
  }

  private double metric(String series) {
    var r = io.ferry.controlplane.metrics.Scrapes.get(api.url + "/metrics", api.adminToken);
    assertEquals(200, r.statusCode(), r.body());
    return io.ferry.controlplane.metrics.Scrapes.value(r.body(), series);
  }

  /** Probes {@code series} until it reads {@code expected}, for 15 s at most. */
  private double awaitMetric(String series, double expected) {
    return io.ferry.journal.testing.Eventually.await(series + " = " + expected, Duration.ofSeconds(15), Duration.ofMillis(100),
        () -> metric(series), v -> v == expected);
  }

  @Test
  void theMetricsCountOpenSubscriptionsAndTheLagOfEventsThatHappenWhileSubscribed() throws Exception {
    double subscribers = metric("ferry_event_stream_subscribers");
    double lags = metric("ferry_event_stream_lag_seconds_count");
    InputStream in = open("?type=vm&format=ndjson&heartbeat=200", api.aliceToken, "application/x-ndjson");
    assertEquals(subscribers + 1, awaitMetric("ferry_event_stream_subscribers", subscribers + 1), "the open subscription");
    String id = vm(api.aliceToken);
    List<JsonNode> got = read(in, g -> g.stream().anyMatch(e -> e.path("entityId").asText().equals(id)));
    assertTrue(got.stream().anyMatch(e -> e.path("entityId").asText().equals(id)), "the new VM's event arrived");
    assertTrue(metric("ferry_event_stream_lag_seconds_count") > lags, "its delivery lag was observed");
    // read() closed the connection: the next heartbeat finds it gone
    assertEquals(subscribers, awaitMetric("ferry_event_stream_subscribers", subscribers), "the closed subscription");
  }

  @Test
  void serverSentEventsCarryTheOffsetAsTheirId() throws Exception {
    String id = vm(api.aliceToken);
    InputStream in = open("?id=" + id, api.aliceToken, "text/event-stream");
    String event = null;
    String offset = null;
    String data = null;
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline && (line = reader.readLine()) != null) {
        if (line.isEmpty() && data != null) break; // the end of the first event
        if (line.startsWith("event:")) event = line.substring(6).trim();
        if (line.startsWith("id:")) offset = line.substring(3).trim();
        if (line.startsWith("data:")) data = line.substring(5).trim();
      }
    }
    assertEquals("VmRequested", event);
    JsonNode envelope = ApiJson.MAPPER.readTree(data);
    assertEquals(offset, envelope.path("offset").asText());
    assertEquals(id, envelope.path("entityId").asText());
    assertEquals("tiny", envelope.path("data").path("spec").path("flavour").path("name").asText());
  }

  @Test
  void aQuietStreamSendsHeartbeats() throws Exception {
    InputStream in = open("?id=nothing-" + api.run + "&heartbeat=300", api.aliceToken, "application/x-ndjson");
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      assertEquals("heartbeat", ApiJson.MAPPER.readTree(reader.readLine()).path("type").asText());
    }
  }

  @Test
  void anOffsetTheStreamDidNotGiveIsA400() {
    ApiHarness.Reply r = api.call("GET", "/v1/events?since=garbage", api.aliceToken, null);
    assertEquals(400, r.status());
    assertTrue(r.json().path("detail").asText().contains("was not given out by this event stream"), r.json().toString());
    assertEquals(400, api.call("GET", "/v1/events?type=planet", api.aliceToken, null).status());
  }
}
