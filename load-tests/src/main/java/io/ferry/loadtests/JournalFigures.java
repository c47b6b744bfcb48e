package io.ferry.loadtests;

import io.ferry.journal.audit.JournalEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Journal throughput of a run (from its events' timestamps) and write latency (from the probe). */
final class JournalFigures {
  private JournalFigures() {}

  /**
   * @param tagged        the run's events, per tag
   * @param writeLatencies the journal probe's persist-to-confirmation times (ms)
   */
  static Map<String, Object> of(List<List<JournalEntry>> tagged, List<Double> writeLatencies) {
    TreeMap<Long, Integer> perSecond = new TreeMap<>();
    long events = 0;
    for (List<JournalEntry> list : tagged) {
      for (JournalEntry e : list) {
        perSecond.merge(e.timestamp().getEpochSecond(), 1, Integer::sum);
        events++;
      }
    }
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("events", events);
    if (!perSecond.isEmpty()) {
      long span = perSecond.lastKey() - perSecond.firstKey() + 1;
      j.put("span_seconds", span);
      j.put("mean_events_per_second", BenchSupport.round((double) events / span));
      j.put("sustained_events_per_second", BenchSupport.round(busiest(perSecond, 60) / 60.0));
      j.put("sustained_note", "the busiest 60 s of the run; the whole run's mean is mean_events_per_second");
      j.put("peak_events_per_second", perSecond.values().stream().mapToInt(Integer::intValue).max().orElse(0));
      List<Double> busy = new ArrayList<>();
      perSecond.values().forEach(n -> busy.add((double) n));
      j.put("busy_second_p50_events", BenchSupport.percentile(busy, 50));
      j.put("first_event", Instant.ofEpochSecond(perSecond.firstKey()).toString());
    }
    var w = BenchSupport.stats(writeLatencies);
    j.put("write_latency_samples", w.get("count"));
    j.put("write_latency_p50_ms", w.get("p50"));
    j.put("write_latency_p99_ms", w.get("p99"));
    j.put("write_latency_max_ms", w.get("max"));
    j.put("write_latency_note", "a probe entity persisting one event every 100 ms on the same journal during the run");
    return j;
  }

  /** The most events in any {@code window} consecutive seconds. */
  static long busiest(TreeMap<Long, Integer> perSecond, int window) {
    long best = 0;
    for (long start : perSecond.keySet()) {
      long sum = perSecond.subMap(start, start + window).values().stream().mapToLong(Integer::longValue).sum();
      best = Math.max(best, sum);
    }
    return best;
  }
}
