package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.ApiJson;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Measures the event stream's lag: a subscriber follows {@code GET /v1/events} (NDJSON) of a real
 * control member on the real Cassandra while VMs are created one by one through the entities; for
 * each event, the time from its persist (the entity's reply) to the subscriber's line. Reports
 * p50/p99/max; it asserts nothing.
 */
@Command(name = "stream-lag", mixinStandardHelpOptions = true,
    description = "Measures the event stream's lag from persist to subscriber (needs Cassandra: ops/cassandra.sh start).")
public final class StreamLagBenchmark implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--events", defaultValue = "200", description = "events to measure (default: ${DEFAULT-VALUE})")
  int events;

  @Option(names = "--interval-ms", defaultValue = "20", description = "pause between events (default: ${DEFAULT-VALUE})")
  long intervalMs;

  @Option(names = "--report", description = "where to write the JSON report (default: $FERRY_STATE/bench/stream-lag-<time>.json)")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new StreamLagBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    try (BenchControl control = new BenchControl("bench", Map.of())) {
      String run = control.run;
      String user = control.user;
      String token = control.token;
      String url = control.url;
      Entities entities = control.entities;
      ActorSystem<Void> system = control.system;
      Map<String, Long> persisted = new ConcurrentHashMap<>();
      List<Double> lags = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch subscribed = new CountDownLatch(1);
      CountDownLatch all = new CountDownLatch(events);
      Thread subscriber = new Thread(() -> follow(url, token, persisted, lags, subscribed, all), "subscriber");
      subscriber.setDaemon(true);
      subscriber.start();
      subscribed.await(30, TimeUnit.SECONDS);
      // warm-up: the stream catches up with history before measuring
      Thread.sleep(3000);
      Instant start = Instant.now();
      for (int i = 0; i < events; i++) {
        String vm = "lag-" + run + "-" + i;
        entities.vm(vm, r -> new Vm.CreateVm(new VmSpec(user, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(user), r))
            .toCompletableFuture().join();
        persisted.put(vm, System.nanoTime());
        Thread.sleep(intervalMs);
      }
      boolean complete = all.await(60, TimeUnit.SECONDS);
      List<Double> sorted = new ArrayList<>(lags);
      Collections.sort(sorted);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("benchmark", "stream-lag");
      result.put("time", start.toString());
      result.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB max heap");
      result.put("events", events);
      result.put("received", sorted.size());
      result.put("complete", complete);
      result.put("p50_ms", BenchSupport.percentile(sorted, 50));
      result.put("p99_ms", BenchSupport.percentile(sorted, 99));
      result.put("max_ms", sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1));
      result.put("settings", Map.of("eventual-consistency-delay",
          system.settings().config().getString("pekko.persistence.cassandra.events-by-tag.eventual-consistency-delay"),
          "refresh-interval", system.settings().config().getString("pekko.persistence.cassandra.query.refresh-interval")));
      Path out = report != null ? report : Path.of(System.getenv().getOrDefault("FERRY_STATE", System.getProperty("user.home") + "/.ferry"),
          "bench", "stream-lag-" + start.toString().replace(':', '-') + ".json");
      Files.createDirectories(out.getParent());
      ApiJson.MAPPER.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), result);
      System.out.println("report: " + out);
      System.out.printf("stream_lag_p50_ms=%.1f stream_lag_p99_ms=%.1f stream_lag_max_ms=%.1f events=%d received=%d%n",
          BenchSupport.percentile(sorted, 50), BenchSupport.percentile(sorted, 99), (Double) result.get("max_ms"), events, sorted.size());
      return complete ? 0 : 1;
    }
  }

  private static void follow(String url, String token, Map<String, Long> persisted, List<Double> lags,
      CountDownLatch subscribed, CountDownLatch all) {
    try {
      HttpResponse<java.io.InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/v1/events?type=vm&heartbeat=500"))
          .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofInputStream());
      subscribed.countDown();
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          long now = System.nanoTime();
          JsonNode e = ApiJson.MAPPER.readTree(line);
          Long at = persisted.get(e.path("entityId").asText());
          if (at != null) {
            lags.add((now - at) / 1e6);
            all.countDown();
          }
        }
      }
    } catch (Exception e) {
      if (all.getCount() > 0) System.err.println("subscriber failed: " + e);
    }
  }
}
