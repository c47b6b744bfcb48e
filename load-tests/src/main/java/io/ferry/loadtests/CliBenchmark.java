package io.ferry.loadtests;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * How long {@code ferry vm list} takes as a user types it, side by side with the bare baseline of
 * one process making the same HTTP call ({@code curl}), against a real control member on the real
 * Cassandra with a few VMs. Each call is its own process, as in a shell. Reports p50/mean/max of
 * each; it asserts nothing.
 */
@Command(name = "cli", mixinStandardHelpOptions = true,
    description = "Times bin/ferry vm list against curl of the same route (needs Cassandra: ops/cassandra.sh start).")
public final class CliBenchmark implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--calls", defaultValue = "10", paramLabel = "N", description = "calls of each (default: ${DEFAULT-VALUE})")
  int calls;

  @Option(names = "--vms", defaultValue = "20", paramLabel = "N", description = "VMs the user has, so the list is not empty (default: ${DEFAULT-VALUE})")
  int vms;

  @Option(names = "--ferry", defaultValue = "bin/ferry", paramLabel = "PATH", description = "the CLI to time (default: ${DEFAULT-VALUE})")
  String ferry;

  @Option(names = "--report", paramLabel = "FILE", description = "where to write the JSON report (default: $FERRY_STATE/bench/cli-<time>.json)")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new CliBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    try (BenchControl control = new BenchControl("cli", Map.of("ferry.timeslots.enabled", false))) {
      String user = control.user;
      String token = control.token;
      String url = control.url;
      Entities entities = control.entities;
      for (int i = 0; i < vms; i++) {
        String id = user + ".list-" + i;
        entities.vm(id, r -> new Vm.CreateVm(new VmSpec(user, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(user), r))
            .toCompletableFuture().join();
      }
      // the list is read from the catalog: wait until it holds them all
      BenchSupport.await("the catalog to list the VMs", Duration.ofSeconds(30), () -> time(List.of("curl", "-sf", "-H",
          "Authorization: Bearer " + token, url + "/v1/vms")), r -> r.out().split("\"id\"").length - 1 >= vms);

      List<String> curl = List.of("curl", "-sf", "-H", "Authorization: Bearer " + token, url + "/v1/vms");
      List<String> cli = List.of(ferry, "--server", url, "--token", token, "vm", "list");
      time(cli); // the first call may build Ferry or write the class-data archive: not counted
      List<Double> bare = new ArrayList<>();
      List<Double> ferryMs = new ArrayList<>();
      Instant start = Instant.now();
      for (int i = 0; i < calls; i++) { // interleaved, so that both meet the same machine
        bare.add(time(curl).ms());
        Timed t = time(cli);
        if (t.exit() != 0) throw new IllegalStateException("bin/ferry vm list failed (exit " + t.exit() + "): " + t.out());
        ferryMs.add(t.ms());
      }
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("benchmark", "cli");
      result.put("time", start.toString());
      result.put("machine", BenchSupport.machine());
      result.put("calls", calls);
      result.put("vms", vms);
      result.put("command", String.join(" ", cli.subList(0, 1)) + " vm list");
      result.put("ferry_ms", BenchSupport.stats(ferryMs));
      result.put("curl_ms", BenchSupport.stats(bare));
      Path out = BenchSupport.reportPath(report, "cli", start, "json");
      BenchSupport.writeJson(out, result);
      System.out.println("report: " + out);
      List<Double> f = sorted(ferryMs);
      List<Double> b = sorted(bare);
      System.out.printf("cli_p50_ms=%.0f cli_mean_ms=%.0f cli_max_ms=%.0f curl_p50_ms=%.0f curl_mean_ms=%.0f ratio_p50=%.1f calls=%d%n",
          BenchSupport.percentile(f, 50), mean(f), f.get(f.size() - 1), BenchSupport.percentile(b, 50), mean(b),
          BenchSupport.percentile(f, 50) / Math.max(1e-9, BenchSupport.percentile(b, 50)), calls);
      return 0;
    }
  }

  private record Timed(double ms, int exit, String out) {}

  private static Timed time(List<String> command) {
    long t0 = System.nanoTime();
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command.subList(0, 1)) + " did not finish in 60 s");
      }
      return new Timed((System.nanoTime() - t0) / 1e6, p.exitValue(), out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static List<Double> sorted(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    java.util.Collections.sort(s);
    return s;
  }

  private static double mean(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).average().orElse(0);
  }
}
