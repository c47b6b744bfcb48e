/**
 * What control members and agents share for {@code /metrics}: a registry per member with the JVM's
 * metrics, and its scrape in Prometheus' text format. The agent's own metrics are in {@code
 * io.ferry.nodeagent.agent.AgentMetrics}; all of them are listed in {@code docs/metrics.md}.
 */
package io.ferry.nodeagent.metrics;
