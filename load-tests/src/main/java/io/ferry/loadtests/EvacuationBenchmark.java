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
 * A node's evacuation at expiry with real QEMU: {@code --vms} tiny guests on one local timeslot
 * that expires, and a second timeslot with room; Ferry's built-in evacuation migrates them all
 * (at most {@code parallel-per-node} at once). Reports the makespan (from the expiry warning to
 * the last migration done) against the sum of the same number of individual bare-QMP migrations.
 */
@Command(name = "evacuation", mixinStandardHelpOptions = true,
    description = "Evacuates a node with real VMs at expiry and compares with individual bare migrations (needs QEMU and Cassandra).")
public final class EvacuationBenchmark implements Callable<Integer> {
  @Option(names = "--vms", defaultValue = "8", description = "VMs on the expiring node (default: ${DEFAULT-VALUE})")
  int vms;

  @Option(names = "--parallel", defaultValue = "2", description = "ferry.timeslots.evacuation.parallel-per-node (default: ${DEFAULT-VALUE})")
  int parallel;

  @Option(names = "--report", description = "the JSON report (default: $FERRY_STATE/bench/evacuation-<time>.json)")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new EvacuationBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Instant time = Instant.now();
    BenchSupport.progress("bare QMP: " + vms + " individual migrations");
    List<JsonNode> bare = QemuBench.bareMigrations(vms);
    Duration lead = Duration.ofSeconds(45);
    Map<String, Object> r = new LinkedHashMap<>();
    List<Map<String, Object>> rows = new ArrayList<>();
    try (QemuBench bench = QemuBench.start("ferry_bench_evacuation", "ferry.timeslots.warning-lead = " + lead.toSeconds() + "s",
        "ferry.timeslots.evacuation.parallel-per-node = " + parallel)) {
      String target = bench.activeTimeslot(vms + 1, (vms + 1) * 256, Duration.ofHours(1));
      String expiring = bench.activeTimeslot(vms + 1, (vms + 1) * 256, Duration.ofSeconds(lead.toSeconds() + 60 + vms * 8L));
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < vms; i++) ids.add(bench.runningVm(expiring, i));
      Map<String, GuestConsole.Count> before = new LinkedHashMap<>();
      ids.forEach(id -> before.put(id, bench.count(id)));
      BenchSupport.progress(vms + " guests running on " + expiring + "; waiting for its expiry warning");
      JsonNode slot = BenchSupport.await("timeslot " + expiring + " expiring", Duration.ofMinutes(5),
          () -> bench.api.get("/v1/timeslots/" + expiring, bench.token).body(), t -> !t.get("stage").asText().equals("Active"));
      Instant warning = Instant.parse(slot.get("end").asText()).minus(lead);
      for (String id : ids) {
        BenchSupport.await("VM " + id + " on " + target, Duration.ofSeconds(lead.toSeconds()), () -> bench.vm(id),
            v -> v.get("stage").asText().equals("Running") && target.equals(v.get("timeslot").asText()));
      }
      Instant last = warning;
      for (String id : ids) {
        GuestConsole.Count after = BenchSupport.await("VM " + id + "'s guest counting on", Duration.ofSeconds(30), () -> bench.count(id),
            c -> c.n() > before.get(id).n());
        VmEvent.VmMigrated m = bench.migrations(id).get(0);
        if (m.at().isAfter(last)) last = m.at();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("vm", id);
        row.put("done_after_warning_ms", Duration.between(warning, m.at()).toMillis());
        row.put("total_ms", m.stats().totalMs());
        row.put("downtime_ms", m.stats().downtimeMs());
        row.put("guest_continued", after.boot().equals(before.get(id).boot()));
        rows.add(row);
      }
      double makespan = Duration.between(warning, last).toMillis();
      double bareSum = QemuBench.field(bare, "wall_ms").stream().mapToDouble(Double::doubleValue).sum();
      double ferrySum = rows.stream().mapToDouble(m -> ((Number) m.get("total_ms")).doubleValue()).sum();
      r.put("benchmark", "evacuation");
      r.put("time", time.toString());
      r.put("machine", BenchSupport.machine());
      r.put("setup", vms + " tiny guests (128 MiB, TCG) on one local timeslot; warning lead " + lead.toSeconds()
          + " s; parallel-per-node " + parallel + "; target: a second local timeslot");
      r.put("makespan_ms", makespan);
      r.put("bare_sum_ms", BenchSupport.round(bareSum));
      r.put("ferry_sum_of_qemu_totals_ms", ferrySum);
      r.put("makespan_over_bare_sum", BenchSupport.round(makespan / bareSum * 100) / 100.0);
      r.put("vms", rows);
      r.put("bare", bare);
      boolean continued = rows.stream().allMatch(m -> Boolean.TRUE.equals(m.get("guest_continued")));
      r.put("guest_continued_every_time", continued);
      Path out = BenchSupport.reportPath(report, "evacuation", time, "json");
      BenchSupport.writeJson(out, r);
      System.out.println("report: " + out);
      System.out.printf(java.util.Locale.ROOT, "makespan_ms=%.0f bare_sum_ms=%.0f makespan_over_bare_sum=%.2f ferry_sum_of_qemu_totals_ms=%.0f vms=%d "
          + "parallel_per_node=%d guest_continued=%s%n", makespan, bareSum, makespan / bareSum, ferrySum, vms, parallel, continued);
      return continued ? 0 : 1;
    }
  }
}
