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

  private Metrics() {}

  /** A new registry holding the JVM's metrics ({@code jvm_*}, {@code process_*}). */
  public static PrometheusRegistry registry() {
    PrometheusRegistry registry = new PrometheusRegistry();
    JvmMetrics.builder().register(registry);
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
