package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A subscriber of {@code GET /v1/events} (NDJSON, admin: every user's events) that records each
 * event's lag: the time it is read here minus the event's own time (taken by the entity just
 * before it persists; same machine, same clock).
 */
final class StreamFollower {
  private final List<Double> lagsMs = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong events = new AtomicLong();
  private volatile InputStream body;
  private volatile String failure;
  private volatile boolean stopped;

  /** Follows the stream of {@code api} on a daemon thread. */
  void start(String api, String token) {
    Thread t = new Thread(() -> {
      try {
        HttpResponse<InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api + "/v1/events?heartbeat=1000"))
            .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofInputStream());
        body = r.body();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = reader.readLine()) != null) {
            long now = System.currentTimeMillis();
            JsonNode e = ApiJson.MAPPER.readTree(line);
            if ("heartbeat".equals(e.path("type").asText()) || !e.hasNonNull("time")) continue;
            lagsMs.add((double) (now - Instant.parse(e.get("time").asText()).toEpochMilli()));
            events.incrementAndGet();
          }
        }
      } catch (Exception e) {
        if (stopped) return; // closed by stop()
        failure = e.toString();
      }
    }, "stream-follower");
    t.setDaemon(true);
    t.start();
  }

  void stop() {
    stopped = true;
    InputStream b = body;
    if (b != null) {
      try {
        b.close();
      } catch (java.io.IOException ignored) {
        // closing anyway
      }
    }
  }

  List<Double> lagsMs() {
    synchronized (lagsMs) {
      return new ArrayList<>(lagsMs);
    }
  }

  long events() {
    return events.get();
  }

  /** Why the subscription failed, or null. */
  String failure() {
    return failure;
  }
}
