package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.journal.vm.VmEvent;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Ferry's overhead on a live migration, side by side in one run: the same tiny guest migrated
 * between two local QEMUs by a bare QMP script, and through Ferry (API request to the VM Running
 * on the target timeslot: control member, agents, QEMU). Reports both wall times, QEMU's own total
 * times and downtimes, and the ratio of Ferry's mean wall time to the bare script's.
 */
@Command(name = "migration", mixinStandardHelpOptions = true,
    description = "Migrates the tiny guest with a bare QMP script and through Ferry, repeated, and compares (needs QEMU and Cassandra).")
public final class MigrationBenchmark implements Callable<Integer> {
  @Option(names = "--repeat", defaultValue = "10", description = "migrations each way (default: ${DEFAULT-VALUE})")
  int repeat;

  @Option(names = "--report", description = "the JSON report (default: $FERRY_STATE/bench/migration-<time>.json)")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new MigrationBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Instant time = Instant.now();
    BenchSupport.progress("bare QMP: " + repeat + " migrations");
    List<JsonNode> bare = QemuBench.bareMigrations(repeat);
    List<Map<String, Object>> ferry = new ArrayList<>();
    try (QemuBench bench = QemuBench.start("ferry_bench_migration")) {
      String a = bench.activeTimeslot(2, 1024, Duration.ofHours(1));
      String b = bench.activeTimeslot(2, 1024, Duration.ofHours(1));
      String vm = bench.runningVm(a, 0);
      String on = a;
      for (int i = 0; i < repeat; i++) {
        String to = on.equals(a) ? b : a;
        GuestConsole.Count before = bench.count(vm);
        long start = System.nanoTime();
        var answer = bench.api.post("/v1/vms/" + vm + "/migrate", bench.token, Map.of("timeslot", to));
        if (!answer.ok()) throw new IllegalStateException("migration " + (i + 1) + " was refused: " + answer.problem());
        BenchSupport.await("migration " + (i + 1) + " done", Duration.ofSeconds(60), () -> bench.vm(vm),
            v -> v.get("stage").asText().equals("Running") && to.equals(v.get("timeslot").asText()));
        double wall = (System.nanoTime() - start) / 1e6;
        GuestConsole.Count after = BenchSupport.await("the guest counting on after migration " + (i + 1), Duration.ofSeconds(30),
            () -> bench.count(vm), c -> c.n() > before.n());
        List<VmEvent.VmMigrated> done = bench.migrations(vm);
        VmEvent.VmMigrated last = done.get(done.size() - 1);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("wall_ms", BenchSupport.round(wall));
        row.put("total_ms", last.stats().totalMs());
        row.put("downtime_ms", last.stats().downtimeMs());
        row.put("guest_continued", after.boot().equals(before.boot()));
        ferry.add(row);
        BenchSupport.progress("Ferry migration " + (i + 1) + ": " + row);
        on = to;
      }
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("benchmark", "migration");
    r.put("time", time.toString());
    r.put("machine", BenchSupport.machine());
    r.put("guest", "tiny: 128 MiB, 1 vCPU, TCG, idle busybox counter; 1 GiB/s bandwidth cap, 300 ms downtime limit, auto-converge");
    var bareWall = QemuBench.field(bare, "wall_ms");
    var ferryWall = ferry.stream().map(m -> ((Number) m.get("wall_ms")).doubleValue()).toList();
    r.put("bare", Map.of("runs", bare, "wall_ms", BenchSupport.stats(bareWall), "total_ms", BenchSupport.stats(QemuBench.field(bare, "total_ms")),
        "downtime_ms", BenchSupport.stats(QemuBench.field(bare, "downtime_ms"))));
    r.put("ferry", Map.of("runs", ferry, "wall_ms", BenchSupport.stats(ferryWall),
        "total_ms", BenchSupport.stats(ferry.stream().map(m -> ((Number) m.get("total_ms")).doubleValue()).toList()),
        "downtime_ms", BenchSupport.stats(ferry.stream().map(m -> ((Number) m.get("downtime_ms")).doubleValue()).toList())));
    double bareMean = bareWall.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double ferryMean = ferryWall.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double ratio = bareMean == 0 ? 0 : ferryMean / bareMean;
    r.put("ratio", BenchSupport.round(ratio * 100) / 100.0);
    r.put("ratio_note", "Ferry's mean wall time (API request to Running on the target) over the bare script's (migrate command to target running)");
    boolean continued = ferry.stream().allMatch(m -> Boolean.TRUE.equals(m.get("guest_continued")))
        && bare.stream().allMatch(j -> j.get("guest_continued").asBoolean());
    r.put("guest_continued_every_time", continued);
    Path out = BenchSupport.reportPath(report, "migration", time, "json");
    BenchSupport.writeJson(out, r);
    System.out.println("report: " + out);
    @SuppressWarnings("unchecked") var bd = (Map<String, Object>) ((Map<String, Object>) r.get("bare")).get("downtime_ms");
    @SuppressWarnings("unchecked") var fd = (Map<String, Object>) ((Map<String, Object>) r.get("ferry")).get("downtime_ms");
    System.out.printf(java.util.Locale.ROOT, "ratio=%.2f bare_mean_ms=%.1f ferry_mean_ms=%.1f bare_downtime_p50_ms=%s ferry_downtime_p50_ms=%s "
        + "bare_downtime_max_ms=%s ferry_downtime_max_ms=%s repeat=%d guest_continued=%s%n", ratio, bareMean, ferryMean,
        bd.get("p50"), fd.get("p50"), bd.get("max"), fd.get("max"), repeat, continued);
    return continued ? 0 : 1;
  }
}
