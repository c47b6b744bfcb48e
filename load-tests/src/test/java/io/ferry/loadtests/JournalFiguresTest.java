package io.ferry.loadtests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ferry.journal.audit.JournalEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JournalFiguresTest {
  @Test
  void sustainedIsTheBusiestMinutePeakTheBusiestSecondAndWriteLatencyComesFromTheProbe() {
    List<JournalEntry> events = new ArrayList<>();
    Instant t0 = Instant.parse("2026-11-24T10:00:00Z");
    for (int s = 0; s < 10; s++) for (int i = 0; i < 10; i++) events.add(new JournalEntry("Vm|a", 1, t0.plusSeconds(s), "e"));
    for (int s = 100; s < 160; s++) for (int i = 0; i < 2; i++) events.add(new JournalEntry("Vm|b", 1, t0.plusSeconds(s), "e"));

    Map<String, Object> f = JournalFigures.of(List.of(events), List.of(1.0, 2.0, 3.0, 100.0));

    assertEquals(220L, f.get("events"));
    assertEquals(160L, f.get("span_seconds"));
    assertEquals(2.0, f.get("sustained_events_per_second"), "120 events in 100..159 beat 100 in 0..9");
    assertEquals(10, f.get("peak_events_per_second"));
    assertEquals(1.4, f.get("mean_events_per_second"));
    assertEquals(100.0, f.get("write_latency_p99_ms"));
    assertEquals(2.0, f.get("write_latency_p50_ms"));
  }
}
