package io.ferry.controlplane.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Reading scrapes in tests: fetch one, read a sample's value, and have Prometheus' promtool check it. */
public final class Scrapes {
  private Scrapes() {}

  /** GET {@code url} with the bearer token (if any): [status, body]. */
  public static HttpResponse<String> get(String url, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
    if (token != null) b.header("Authorization", "Bearer " + token);
    try {
      return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException("GET " + url + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The value of the sample {@code series} (its name and labels exactly as printed). */
  public static double value(String scrape, String series) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
    }
    throw new AssertionError("no sample " + series + " in the scrape:\n" + scrape);
  }

  /**
   * Runs {@code promtool check metrics} (FERRY_PROMTOOL, which ops/test sets, else promtool on the
   * PATH) on the scrape and fails with its words unless it finds nothing to complain about.
   */
  public static void promtool(String scrape, String what) {
    String promtool = System.getenv().getOrDefault("FERRY_PROMTOOL", "promtool");
    try {
      Process p = new ProcessBuilder(promtool, "check", "metrics").redirectErrorStream(true).start();
      p.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("promtool did not finish in 30 s");
      }
      assertEquals(0, p.exitValue(), "promtool check metrics on " + what + " found:\n" + out);
      assertEquals("", out.trim(), "promtool check metrics on " + what + " found:\n" + out);
    } catch (IOException e) {
      throw new AssertionError("cannot run " + promtool + " (ops/test fetches it: ops/lib.sh ensure_promtool): " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
