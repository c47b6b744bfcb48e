package io.ferry.loadtests;

import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The timeline page ({@code /ui}) with thousands of items, in a real headless Chromium: a control
 * member on the real Cassandra with one user's N running VMs on M nodes' timeslots (journaled
 * through the entities; no QEMU: the page draws what the journal says). Times how long the page
 * takes from opening to drawing every VM, against the bare baseline of reading the same event
 * stream to its end in plain Java; how long each redraw takes (the page's own measure); and how
 * long a new VM takes to appear once it is journaled. It asserts nothing.
 */
@Command(name = "ui", mixinStandardHelpOptions = true,
    description = "Times /ui with thousands of VMs in headless Chromium against reading the same event stream (needs Cassandra, chromium, chromedriver).")
public final class UiBenchmark implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--vms", defaultValue = "2000", paramLabel = "N", description = "running VMs (default: ${DEFAULT-VALUE})")
  int vms;

  @Option(names = "--nodes", defaultValue = "50", paramLabel = "N", description = "nodes, one timeslot each (default: ${DEFAULT-VALUE})")
  int nodes;

  @Option(names = "--report", paramLabel = "FILE", description = "where to write the JSON report (default: $FERRY_STATE/bench/ui-<time>.json)")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new UiBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (vms < 1 || nodes < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--vms and --nodes must be at least 1");
    // no agents here: a running VM's agent is looked for long enough for the run, and nothing is lost for its absence
    try (BenchControl control = new BenchControl("ui", Map.of("ferry.timeslots.enabled", false,
        "ferry.control.agent-lookup-timeout", "30 minutes"))) {
      Instant start = Instant.now();
      int perNode = (vms + nodes - 1) / nodes;
      List<String> slots = new ArrayList<>();
      for (int n = 0; n < nodes; n++) slots.add(timeslot(control, "node-" + n, perNode));
      long populating = System.nanoTime();
      Semaphore inFlight = new Semaphore(64);
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (int i = 0; i < vms; i++) {
        inFlight.acquire();
        CompletableFuture<?> f = running(control, "ui-" + i, slots.get(i % nodes), "node-" + (i % nodes)).toCompletableFuture();
        f.whenComplete((v, e) -> inFlight.release());
        all.add(f);
        if ((i + 1) % 500 == 0) BenchSupport.progress((i + 1) + " of " + vms + " VMs journaled");
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
      double populateSeconds = (System.nanoTime() - populating) / 1e9;

      // the bare baseline: the same event stream, read to its end by plain Java
      long[] stream = readStream(control);
      ChromeDriver browser = browser();
      try {
        long opened = System.nanoTime();
        browser.get(control.url + "/ui#token=" + control.token);
        BenchSupport.await("every VM drawn", Duration.ofMinutes(5), () -> count(browser, "rect.vm"), drawn -> drawn >= vms);
        double firstDrawMs = (System.nanoTime() - opened) / 1e6;
        // a new VM, once journaled, appears on the live page
        String next = "ui-new";
        running(control, next, slots.get(0), "node-0").toCompletableFuture().join();
        long journaled = System.nanoTime();
        String selector = "rect.vm[data-vm='" + control.user + "." + next + "']";
        BenchSupport.await("the new VM drawn", Duration.ofMinutes(1), () -> count(browser, selector), n -> n > 0);
        double liveMs = (System.nanoTime() - journaled) / 1e6;
        // redraws with everything on the page (the "now" line moves each second)
        long renders = ((Number) stats(browser).get("renders")).longValue();
        BenchSupport.await("three more redraws", Duration.ofSeconds(30), () -> ((Number) stats(browser).get("renders")).longValue(),
            r -> r >= renders + 3);
        Map<String, Object> page = stats(browser);
        Path shot = BenchSupport.reportPath(null, "ui", start, "png");
        Files.createDirectories(shot.getParent());
        Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), shot, StandardCopyOption.REPLACE_EXISTING);

        Map<String, Object> result = new LinkedHashMap<>();
        result.put("benchmark", "ui");
        result.put("time", start.toString());
        result.put("machine", BenchSupport.machine());
        result.put("vms", vms);
        result.put("nodes", nodes);
        result.put("events", stream[1]);
        result.put("populate_seconds", BenchSupport.round(populateSeconds));
        result.put("stream_read_ms", stream[0]);
        result.put("page_all_drawn_ms", BenchSupport.round(firstDrawMs));
        result.put("live_vm_drawn_ms", BenchSupport.round(liveMs));
        result.put("render_last_ms", BenchSupport.round(((Number) page.get("renderMs")).doubleValue()));
        result.put("render_max_ms", BenchSupport.round(((Number) page.get("renderMaxMs")).doubleValue()));
        result.put("page", page);
        result.put("screenshot", shot.toString());
        Path out = BenchSupport.reportPath(report, "ui", start, "json");
        BenchSupport.writeJson(out, result);
        System.out.println("report: " + out);
        System.out.println("screenshot: " + shot);
        System.out.printf("ui_all_drawn_ms=%.0f stream_read_ms=%d ratio=%.1f render_last_ms=%.1f render_max_ms=%.1f live_vm_drawn_ms=%.0f vms=%d nodes=%d events=%d%n",
            firstDrawMs, stream[0], firstDrawMs / Math.max(1, stream[0]), ((Number) page.get("renderMs")).doubleValue(),
            ((Number) page.get("renderMaxMs")).doubleValue(), liveMs, vms, nodes, stream[1]);
        return 0;
      } finally {
        browser.quit();
      }
    }
  }

  /** An active timeslot of the user's on {@code node} with room for {@code vms} tiny VMs. */
  private static String timeslot(BenchControl c, String node, int vms) {
    String id = "ts-" + c.run + "-" + node;
    Instant now = Instant.now();
    c.entities.timeslot(id, r -> new Timeslot.RequestTimeslot(c.user, new TimeslotRequest(vms + 1, 128 * (vms + 1), Duration.ofHours(1), ""),
        "local", Cause.user(c.user), r)).toCompletableFuture().join();
    c.entities.timeslot(id, r -> new Timeslot.RecordSubmitted("job-" + node, r)).toCompletableFuture().join();
    c.entities.timeslot(id, r -> new Timeslot.Activate(node, now, now.plus(Duration.ofHours(1)), r)).toCompletableFuture().join();
    return id;
  }

  /** A VM journaled as created, placed on {@code slot}, starting and started, as an agent would report it. */
  private static CompletionStage<?> running(BenchControl c, String name, String slot, String node) {
    String vm = c.user + "." + name;
    return c.entities.vm(vm, r -> new Vm.CreateVm(new VmSpec(c.user, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(c.user), r))
        .thenCompose(s -> c.entities.timeslot(slot, r -> new Timeslot.ReserveCapacity(new Reservation(vm, 1, 128), r)))
        .thenCompose(s -> c.entities.vm(vm, r -> new Vm.PlaceVm(new Placement(slot, node), Cause.user(c.user), r)))
        .thenCompose(s -> c.entities.vm(vm, r -> new Vm.ReportStarting(s.facts().attempt(), r))
            .thenCompose(t -> c.entities.vm(vm, r -> new Vm.ReportStarted(s.facts().attempt(), r))));
  }

  /** Reads the user's event stream until it has caught up (its first heartbeat): {ms, events}. */
  private static long[] readStream(BenchControl c) throws Exception {
    long t0 = System.nanoTime();
    long events = 0;
    HttpURLConnection http = (HttpURLConnection) URI.create(c.url + "/v1/events?format=ndjson&heartbeat=1000").toURL().openConnection();
    http.setRequestProperty("Authorization", "Bearer " + c.token);
    try (BufferedReader in = new BufferedReader(new InputStreamReader(http.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.contains("\"type\":\"heartbeat\"")) break;
        if (!line.isBlank()) events++;
      }
    } finally {
      http.disconnect();
    }
    // the heartbeat comes a second after the last event: that idle second is not reading
    return new long[] {Math.max(0, (System.nanoTime() - t0) / 1_000_000 - 1000), events};
  }

  private static ChromeDriver browser() throws Exception {
    String chromium = System.getenv().getOrDefault("FERRY_CHROMIUM", "/usr/bin/chromium");
    String driver = System.getenv().getOrDefault("FERRY_CHROMEDRIVER", "/usr/bin/chromedriver");
    if (!Files.isExecutable(Path.of(chromium)) || !Files.isExecutable(Path.of(driver))) {
      throw new IllegalStateException(chromium + " and " + driver + " are needed: Debian's chromium and chromium-driver (ops/bench ui installs them)");
    }
    ChromeOptions options = new ChromeOptions().setBinary(chromium).addArguments("--headless", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1600,1000", "--user-data-dir=" + Files.createTempDirectory("ferry-chromium"));
    return new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(Path.of(driver).toFile()).usingAnyFreePort().build(), options);
  }

  private static long count(ChromeDriver browser, String selector) {
    Object n = ((JavascriptExecutor) browser).executeScript("return document.querySelectorAll(arguments[0]).length;", selector);
    return ((Number) n).longValue();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> stats(ChromeDriver browser) {
    Object s = ((JavascriptExecutor) browser).executeScript("return window.ferryUi ? window.ferryUi.stats() : {renders: 0, renderMs: 0, renderMaxMs: 0};");
    return (Map<String, Object>) s;
  }
}
