package io.ferry.nodeagent.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * What control members and agents share for {@code /metrics}: a registry of their own (a JVM may
 * hold several members, in tests and in the load tests' simulated clusters, so nothing goes into
 * the client's default registry) with the JVM's metrics, and its scrape in Prometheus' text format.
 * The metrics themselves are listed, with their units and labels, in {@code docs/metrics.md}.
 */
public final class Metrics {
  /** The text format's content type ({@code text/plain; version=0.0.4; charset=utf-8}). */
  public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

  /** The entity types whose journal writes {@link #JOURNAL_WRITES} times. */
  public static final java.util.List<String> ENTITY_TYPES = java.util.List.of("vm", "timeslot", "node", "policy");

  /**
   * {@code ferry_journal_write_seconds}: from an entity's decision to persist events to the
   * journal's acknowledgement of the write (Cassandra's, through Pekko Persistence), by entity
   * type. One per process, like the JVM's metrics: every member of this JVM writes into it and
   * every registry of this JVM exports it.
   */
  public static final io.prometheus.metrics.core.metrics.Histogram JOURNAL_WRITES = journalWrites();

  private Metrics() {}

  private static io.prometheus.metrics.core.metrics.Histogram journalWrites() {
    var h = io.prometheus.metrics.core.metrics.Histogram.builder().name("ferry_journal_write_seconds")
        .help("From an entity's decision to persist events to the journal's acknowledgement, by entity type (this process's entities)")
        .classicOnly().classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5).labelNames("entity").build();
    ENTITY_TYPES.forEach(h::initLabelValues);
    return h;
  }

  /** A new registry holding the JVM's metrics ({@code jvm_*}, {@code process_*}) and the journal's write times. */
  public static PrometheusRegistry registry() {
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetrics.builder().register(registry);
    registry.register(JOURNAL_WRITES);
    return registry;
  }

  /** Every metric of {@code registry}, in the text format Prometheus scrapes. */
  public static String text(PrometheusRegistry registry) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      TEXT.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
