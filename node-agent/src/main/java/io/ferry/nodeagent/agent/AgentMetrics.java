package io.ferry.nodeagent.agent;

import com.typesafe.config.Config;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.metrics.Metrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.ToDoubleFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent process's {@code /metrics} ({@code ferry.agent.metrics}): whether its member is up and
 * reaches the control plane, how much of its fence lease is left, and the live figures of the
 * migrations out of its node from QEMU's {@code query-migrate}. It lives as long as the process,
 * across the members a rejoin starts, so its address stays the same. The figures are sums over the
 * node and carry no VM ids or owners: the port is open to anyone who reaches it, and one user must
 * not learn of another's VMs there (per VM and per owner figures are on the control members'
 * {@code /metrics}, behind an admin token).
 */
final class AgentMetrics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentMetrics.class);

  private final PrometheusRegistry registry = Metrics.registry();
  private final Counter incarnations;
  private volatile java.util.function.Supplier<List<HypervisorDriver.InFlight>> migrations = List::of;
  private volatile ActorSystem<?> member;
  private final HTTPServer server;
  private final ExecutorService pool;
  private final Path addressFile;

  private AgentMetrics(Config config, String nodeId, Path stateDir, FenceLease lease) {
    GaugeWithCallback.builder().name("ferry_agent_info").help("This agent: 1, labelled with the node it runs")
        .labelNames("node").callback(cb -> cb.call(1, nodeId)).register(registry);
    GaugeWithCallback.builder().name("ferry_agent_member_up").help("1 while this agent's cluster member is Up, else 0")
        .callback(cb -> cb.call(memberUp() ? 1 : 0)).register(registry);
    GaugeWithCallback.builder().name("ferry_agent_control_reachable")
        .help("1 while a control member is reachable, else 0 (the fence lease then counts down)")
        .callback(cb -> cb.call(lease.attached() ? 1 : 0)).register(registry);
    GaugeWithCallback.builder().name("ferry_agent_fence_lease_remaining_seconds")
        .help("Seconds until the fence lease runs out; the agent fences (kills its QEMUs) when it has run out while no control member is reachable")
        .callback(cb -> cb.call(lease.millisRemaining() / 1000.0)).register(registry);
    GaugeWithCallback.builder().name("ferry_agent_fenced").help("1 once this agent fenced itself, else 0")
        .callback(cb -> cb.call(lease.fenced() ? 1 : 0)).register(registry);
    incarnations = Counter.builder().name("ferry_agent_incarnations_total")
        .help("Cluster members this agent process started (more than one: it rejoined the control plane)").register(registry);
    GaugeWithCallback.builder().name("ferry_agent_migrations_in_flight")
        .help("Migrations out of this node in flight (live migrations and suspends, which migrate to a file)")
        .callback(cb -> cb.call(inFlight().size())).register(registry);
    sum("ferry_agent_migration_transferred_bytes", "Bytes the migrations in flight have sent so far", HypervisorDriver.InFlight::transferredBytes);
    sum("ferry_agent_migration_remaining_bytes", "Bytes the migrations in flight still have to send (QEMU's estimate)",
        HypervisorDriver.InFlight::remainingBytes);
    sum("ferry_agent_migration_dirty_rate_bytes_per_second", "How fast the migrating guests dirty their memory",
        HypervisorDriver.InFlight::dirtyBytesPerSecond);
    sum("ferry_agent_migration_transfer_rate_bytes_per_second", "How fast the migrations in flight send",
        HypervisorDriver.InFlight::transferBytesPerSecond);

    Config c = config.getConfig("ferry.agent.metrics");
    if (!c.getBoolean("enabled")) {
      server = null;
      pool = null;
      addressFile = null;
      return;
    }
    String host = c.getString("host").isEmpty() ? config.getString("ferry.agent.bind-host") : c.getString("host");
    pool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "agent-metrics");
      t.setDaemon(true);
      return t;
    });
    try {
      server = HTTPServer.builder().hostname(host).port(c.getInt("port")).registry(registry).executorService(pool).buildAndStart();
    } catch (IOException e) {
      pool.shutdownNow();
      throw new UncheckedIOException("cannot serve the agent's /metrics on " + host + ":" + c.getInt("port") + ": " + e.getMessage()
          + " (set ferry.agent.metrics.port, FERRY_AGENT_METRICS_PORT, to a free port, or 0 for any)", e);
    }
    addressFile = stateDir.resolve("metrics.address");
    String address = host + ":" + server.getPort();
    try {
      Files.createDirectories(addressFile.getParent());
      Files.writeString(addressFile, address + "\n");
    } catch (IOException e) {
      log.warn("cannot write {}: {}", addressFile, e.getMessage());
    }
    log.info("agent of node {}: metrics on http://{}/metrics", nodeId, address);
  }

  /** Registers the agent's metrics and, if {@code ferry.agent.metrics.enabled}, serves them. */
  static AgentMetrics start(Config config, AgentSettings settings, FenceLease lease) {
    return new AgentMetrics(config, settings.nodeId(), settings.stateDir(), lease);
  }

  /** As {@link #start(Config, AgentSettings, FenceLease)}, for a node and state folder given directly. */
  static AgentMetrics start(Config config, String nodeId, Path stateDir, FenceLease lease) {
    return new AgentMetrics(config, nodeId, stateDir, lease);
  }

  /** A new member of this process took over, with its driver. */
  void attach(ActorSystem<?> member, HypervisorDriver driver) {
    attach(member, driver::migrationsInFlight);
  }

  /** A new member took over ({@code null}: none yet), its migrations in flight read from {@code migrations}. */
  void attach(ActorSystem<?> member, java.util.function.Supplier<List<HypervisorDriver.InFlight>> migrations) {
    this.member = member;
    this.migrations = migrations;
    incarnations.inc();
  }

  /** The scrape as Prometheus would get it. */
  String scrape() {
    return Metrics.text(registry);
  }

  /** The port it serves on, or -1 when disabled. */
  int port() {
    return server == null ? -1 : server.getPort();
  }

  private void sum(String name, String help, ToDoubleFunction<HypervisorDriver.InFlight> figure) {
    GaugeWithCallback.builder().name(name).help(help)
        .callback(cb -> cb.call(inFlight().stream().mapToDouble(figure).sum())).register(registry);
  }

  private List<HypervisorDriver.InFlight> inFlight() {
    return migrations.get();
  }

  private boolean memberUp() {
    ActorSystem<?> m = member;
    if (m == null || m.whenTerminated().isCompleted()) return false;
    try {
      return Cluster.get(m).selfMember().status().equals(MemberStatus.up());
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void close() {
    if (server == null) return;
    server.close();
    pool.shutdownNow();
    try {
      Files.deleteIfExists(addressFile);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", addressFile, e.getMessage());
    }
  }
}
