/**
 * A control member's {@code /metrics}: {@link io.ferry.controlplane.metrics.ControlMetrics} holds
 * the member's own Prometheus registry. What it exports, with units, labels and who may scrape, is
 * listed in {@code docs/metrics.md}; {@code ControlMetricsTest} keeps that list and the scrape equal.
 */
package io.ferry.controlplane.metrics;
