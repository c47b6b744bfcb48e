package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** What the benchmarks share: percentiles, the machine's description, report files and an API client. */
public final class BenchSupport {
  private BenchSupport() {}

  /** The p-th percentile (nearest rank) of {@code values}; 0 when there are none. */
  public static double percentile(List<Double> values, double p) {
    if (values.isEmpty()) return 0;
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  /** count, mean, p50, p99 and max of {@code values}, rounded to 0.1. */
  public static Map<String, Object> stats(List<Double> values) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("count", values.size());
    s.put("mean", round(values.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
    s.put("p50", round(percentile(values, 50)));
    s.put("p99", round(percentile(values, 99)));
    s.put("max", round(values.stream().mapToDouble(Double::doubleValue).max().orElse(0)));
    return s;
  }

  public static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  /** Cores, memory and OS of this machine, for the report. */
  public static String machine() {
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return Runtime.getRuntime().availableProcessors() + " cores, " + (os.getTotalMemorySize() >> 30) + " GiB, "
        + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java " + System.getProperty("java.version");
  }

  /** {@code given}, or {@code $FERRY_STATE/bench/<name>-<time>.<ext>}. */
  public static Path reportPath(Path given, String name, Instant time, String ext) {
    if (given != null) return given;
    String state = System.getenv().getOrDefault("FERRY_STATE", System.getProperty("user.home") + "/.ferry");
    return Path.of(state, "bench", name + "-" + time.toString().replace(':', '-').replaceAll("\\.\\d+Z$", "Z") + "." + ext);
  }

  /** Writes {@code report} as pretty JSON to {@code file} (folders created). */
  public static void writeJson(Path file, Object report) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    ApiJson.MAPPER.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), report);
  }

  /** A progress line on stderr, with the time of day. */
  public static void progress(String line) {
    // always HH:mm:ss (LocalTime's toString drops ":00" seconds; ops/test looks for these lines)
    System.err.println("[" + java.time.LocalTime.now().format(java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")) + "] " + line);
  }

  /** Polls {@code read} every 20 ms until {@code done} holds; fails naming {@code what} after {@code timeout}. */
  public static <T> T await(String what, Duration timeout, java.util.function.Supplier<T> read, Predicate<T> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = read.get();
      if (value != null && done.test(value)) return value;
      if (System.nanoTime() > deadline) throw new IllegalStateException(what + ": not reached within " + timeout.toSeconds() + " s (last: " + value + ")");
      sleep(Duration.ofMillis(20));
    }
  }

  /** Sleeps; an interrupt ends the benchmark. */
  public static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /**
   * A small client of Ferry's HTTP API for load generators: JSON in and out, bearer token, and
   * retries while the control member answers 503 (busy) until {@code patience} has passed.
   */
  public static final class Api {
    private static final long BACKOFF_MS = 200;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final Duration patience;
    private final Duration requestTimeout;

    public Api(String base, Duration patience) {
      this(base, patience, Duration.ofMinutes(10));
    }

    /** As {@link #Api(String, Duration)}; a request not answered within {@code requestTimeout} fails (as an I/O error). */
    public Api(String base, Duration patience, Duration requestTimeout) {
      this.base = base;
      this.patience = patience;
      this.requestTimeout = requestTimeout;
    }

    /** The answer's status and body (null body if empty). */
    public record Answer(int status, JsonNode body) {
      public boolean ok() {
        return status / 100 == 2;
      }

      /** The problem's detail, or the status. */
      public String problem() {
        return body != null && body.has("detail") ? body.get("detail").asText() : "HTTP " + status;
      }
    }

    public Answer get(String path, String token) {
      return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), token);
    }

    public Answer delete(String path, String token) {
      return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE(), token);
    }

    public Answer post(String path, String token, Object body) {
      try {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(ApiJson.MAPPER.writeValueAsString(body))), token);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalArgumentException(e);
      }
    }

    private Answer send(HttpRequest.Builder request, String token) {
      long deadline = System.nanoTime() + patience.toNanos();
      HttpRequest r = request.header("Authorization", "Bearer " + token).timeout(requestTimeout).build();
      while (true) {
        try {
          HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
          Answer a = new Answer(response.statusCode(), response.body().isEmpty() ? null : ApiJson.MAPPER.readTree(response.body()));
          if (a.status() != 503 || System.nanoTime() > deadline) return a;
          System.err.println("retrying " + r.method() + " " + r.uri().getPath() + " after 503: " + a.problem());
          Thread.sleep(BACKOFF_MS);
        } catch (IOException e) {
          if (System.nanoTime() > deadline) throw new IllegalStateException(r.method() + " " + r.uri() + " failed: " + e, e);
          System.err.println("retrying " + r.method() + " " + r.uri().getPath() + " after " + e);
          pause();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
    }

    private static void pause() {
      try {
        Thread.sleep(BACKOFF_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }
}
