package io.ferry.nodeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.ferry.nodeagent.driver.HypervisorDriver.InFlight;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's /metrics over real HTTP, with the migrations in flight given directly (no QEMU: the
 * figures' source, query-migrate, is covered where the real QEMU migrates, in VmOnQemuIT).
 */
class AgentMetricsTest {
  @TempDir Path state;

  private static Config config(boolean enabled) {
    return ConfigFactory.parseString("ferry.agent { bind-host = \"127.0.0.1\", metrics { enabled = " + enabled
        + ", host = \"\", port = 0 } }");
  }

  private static String get(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), url);
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), "the text format's content type");
    return r.body();
  }

  static double value(String scrape, String series) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
    }
    throw new AssertionError("no sample " + series + " in:\n" + scrape);
  }

  @Test
  void theMigrationsInFlightAreSummedOverTheNodeWithoutVmIdsAndServedOverHttp() throws Exception {
    List<InFlight> inFlight = new CopyOnWriteArrayList<>();
    try (FenceLease lease = new FenceLease(Duration.ofSeconds(4));
         AgentMetrics metrics = AgentMetrics.start(config(true), "n7", state, lease)) {
      metrics.attach(null, () -> inFlight);
      Path address = state.resolve("metrics.address");
      assertEquals("127.0.0.1:" + metrics.port(), Files.readString(address).trim(), "the address is written for service discovery");
      String url = "http://127.0.0.1:" + metrics.port() + "/metrics";

      String idle = get(url);
      assertEquals(0, value(idle, "ferry_agent_migrations_in_flight"));
      assertEquals(0, value(idle, "ferry_agent_member_up"), "no member attached");
      assertEquals(1, value(idle, "ferry_agent_info{node=\"n7\"}"));
      assertEquals(1, value(idle, "ferry_agent_incarnations_total"));
      double lease0 = value(idle, "ferry_agent_fence_lease_remaining_seconds");
      assertTrue(lease0 > 0 && lease0 <= 4, "a fresh lease has up to fence-after left: " + lease0);

      inFlight.add(new InFlight("alice/secret-vm", 100, 900, 4096, 1_000_000));
      inFlight.add(new InFlight("bob/other-vm", 50, 50, 0, 500_000));
      String busy = get(url);
      assertEquals(2, value(busy, "ferry_agent_migrations_in_flight"));
      assertEquals(150, value(busy, "ferry_agent_migration_transferred_bytes"));
      assertEquals(950, value(busy, "ferry_agent_migration_remaining_bytes"));
      assertEquals(4096, value(busy, "ferry_agent_migration_dirty_rate_bytes_per_second"));
      assertEquals(1_500_000, value(busy, "ferry_agent_migration_transfer_rate_bytes_per_second"));
      assertFalse(busy.contains("alice") || busy.contains("bob"), "the open endpoint names no user or VM");
      assertEquals(metrics.scrape().lines().filter(l -> l.startsWith("ferry_")).count(),
          busy.lines().filter(l -> l.startsWith("ferry_")).count());
    }
    assertFalse(Files.exists(state.resolve("metrics.address")), "the address file goes with the server");
  }

  @Test
  void disabledMetricsServeNothingAndWriteNoAddress() {
    try (FenceLease lease = new FenceLease(Duration.ofSeconds(4));
         AgentMetrics metrics = AgentMetrics.start(config(false), "n8", state, lease)) {
      assertEquals(-1, metrics.port());
      assertFalse(Files.exists(state.resolve("metrics.address")));
      assertTrue(metrics.scrape().contains("ferry_agent_info"), "still registered for whoever asks in-process");
    }
  }

  /** docs/metrics.md lists exactly the ferry_agent_* families an agent exports. */
  @Test
  void theAgentRowsOfTheMetricTableMatchWhatIsExported() throws Exception {
    try (FenceLease lease = new FenceLease(Duration.ofSeconds(4));
         AgentMetrics metrics = AgentMetrics.start(config(false), "n9", state, lease)) {
      Set<String> exported = new TreeSet<>();
      Matcher m = Pattern.compile("(?m)^# TYPE (ferry_\\S+) ").matcher(metrics.scrape());
      while (m.find()) exported.add(m.group(1));
      Set<String> documented = new TreeSet<>();
      // the rows of the section "## Agents"
      String doc = Files.readString(Path.of("../docs/metrics.md"));
      String agents = doc.substring(doc.indexOf("\n## Agents"));
      int end = agents.indexOf("\n## ", 1);
      if (end > 0) agents = agents.substring(0, end);
      Matcher d = Pattern.compile("(?m)^\\| `(ferry_[a-z_]+)` \\|").matcher(agents);
      while (d.find()) documented.add(d.group(1));
      assertEquals(documented, exported, "docs/metrics.md's agent rows against an agent's scrape");
    }
  }
}
