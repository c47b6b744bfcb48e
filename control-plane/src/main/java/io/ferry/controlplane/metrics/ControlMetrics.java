package io.ferry.controlplane.metrics;

import io.ferry.controlplane.api.Catalog;
import io.ferry.journal.Cause;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.metrics.Metrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A control member's {@code /metrics} (listed in {@code docs/metrics.md}): the VMs, timeslots and
 * nodes by stage from the {@link Catalog}, and the migrations, suspends, resumes and losses with
 * QEMU's figures, counted from the journal's events as the catalog folds them. Counting from the
 * journal rather than where each step ran makes every control member report the same totals, and
 * a restarted member reads them again from the journal (so the counters do not reset on restart;
 * they count since the journal began). An event the tag query delivers twice is counted once: only
 * an event that advances its entity's fold is counted.
 *
 * <p>Per-owner series ({@code ferry_owner_vms}) are user-level data: they exist only while the
 * endpoint needs an admin token ({@code ferry.metrics.public = off}, the default).
 */
public final class ControlMetrics {
  /** How a move was caused: the journaled {@link Cause.Kind}, in lower case. */
  private static final List<String> CAUSES = Arrays.stream(Cause.Kind.values()).map(k -> k.name().toLowerCase()).toList();

  private final PrometheusRegistry registry = Metrics.registry();
  private final Counter migrations;
  private final Counter suspends;
  private final Counter resumes;
  private final Counter lost;
  private final Histogram migrationSeconds;
  private final Histogram downtimeSeconds;
  private final Histogram migratedBytes;
  private final Histogram suspendedBytes;
  /** The cause of each VM's move in flight (started, not yet ended), by VM id. */
  private final Map<String, String> moving = new ConcurrentHashMap<>();

  /** The counters and histograms, at zero until the catalog feeds them events. */
  public ControlMetrics() {
    migrations = outcomes("ferry_migrations_total", "Live migrations ended, by outcome and by what caused them");
    suspends = outcomes("ferry_suspends_total", "Suspends to disk ended, by outcome and by what caused them");
    resumes = Counter.builder().name("ferry_resumes_total").help("Resumes from disk ended, by outcome")
        .labelNames("outcome").register(registry);
    resumes.initLabelValues("succeeded");
    resumes.initLabelValues("failed");
    lost = Counter.builder().name("ferry_vms_lost_total")
        .help("VMs recorded lost: their QEMU died, or their node was fenced or its job ended under them").register(registry);
    migrationSeconds = Histogram.builder().name("ferry_migration_duration_seconds")
        .help("QEMU's total time of each completed live migration").classicOnly()
        .classicUpperBounds(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300).register(registry);
    downtimeSeconds = Histogram.builder().name("ferry_migration_downtime_seconds")
        .help("QEMU's downtime (guest paused) of each completed live migration whose downtime QEMU reported").classicOnly()
        .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5).register(registry);
    migratedBytes = Histogram.builder().name("ferry_migration_transferred_bytes")
        .help("Bytes each completed live migration sent").classicOnly()
        .classicExponentialUpperBounds(1 << 20, 4, 8).register(registry);
    suspendedBytes = Histogram.builder().name("ferry_suspend_image_bytes")
        .help("Size of each completed suspend's image").classicOnly()
        .classicExponentialUpperBounds(1 << 20, 4, 8).register(registry);
  }

  /**
   * Registers the gauges read from the catalog at each scrape; the per-owner ones only if
   * {@code perOwner} (the endpoint is behind an admin token).
   */
  public ControlMetrics gauges(Source catalog, boolean perOwner) {
    byStage("ferry_vms", "VMs by stage (deleted ones not counted)", catalog::vms, VmState::stage, s -> !(s instanceof VmState.Deleted));
    byStage("ferry_timeslots", "Timeslots by stage", catalog::timeslots, TimeslotState::stage, s -> true);
    byStage("ferry_nodes", "Nodes by stage", catalog::nodes, NodeState::stage, s -> true);
    if (perOwner) {
      GaugeWithCallback.builder().name("ferry_owner_vms").help("VMs by owner and stage (deleted ones not counted)")
          .labelNames("owner", "stage").callback(cb -> {
            Map<List<String>, Integer> counts = new TreeMap<>(java.util.Comparator.comparing(Object::toString));
            for (VmState s : catalog.vms()) {
              if (!(s instanceof VmState.Deleted)) counts.merge(List.of(s.facts().spec().owner(), s.stage()), 1, Integer::sum);
            }
            counts.forEach((labels, n) -> cb.call(n, labels.get(0), labels.get(1)));
          }).register(registry);
    }
    return this;
  }

  /** What the control metrics read from the catalog (the catalog itself, or a fixed set in tests). */
  public interface Source {
    List<VmState> vms();

    List<TimeslotState> timeslots();

    List<NodeState> nodes();

    static Source of(Catalog catalog) {
      return new Source() {
        public List<VmState> vms() {
          return catalog.vms(null);
        }

        public List<TimeslotState> timeslots() {
          return catalog.timeslots(null);
        }

        public List<NodeState> nodes() {
          return catalog.nodes();
        }
      };
    }
  }

  private Counter outcomes(String name, String help) {
    Counter c = Counter.builder().name(name).help(help).labelNames("outcome", "cause").register(registry);
    for (String cause : CAUSES) {
      c.initLabelValues("succeeded", cause);
      c.initLabelValues("failed", cause);
    }
    return c;
  }

  private <S> void byStage(String name, String help, java.util.function.Supplier<List<S>> states, Function<S, String> stage,
      java.util.function.Predicate<S> counted) {
    GaugeWithCallback.builder().name(name).help(help).labelNames("stage").callback(cb -> {
      Map<String, Integer> counts = new TreeMap<>();
      for (S s : states.get()) {
        if (counted.test(s)) counts.merge(stage.apply(s), 1, Integer::sum);
      }
      counts.forEach((stageName, n) -> cb.call(n, stageName));
    }).register(registry);
  }

  /** Counts one journaled event, once: the catalog calls this for each event that advanced its entity. */
  public void event(Object event) {
    if (event instanceof VmEvent.VmMigrationStarted s) {
      moving.put(s.vmId(), cause(s.cause()));
    } else if (event instanceof VmEvent.VmSuspendStarted s) {
      moving.put(s.vmId(), cause(s.cause()));
    } else if (event instanceof VmEvent.VmMigrated m) {
      migrations.labelValues("succeeded", ended(m.vmId())).inc();
      if (m.stats().totalMs() > 0) migrationSeconds.observe(m.stats().totalMs() / 1000.0);
      if (m.stats().downtimeMs() >= 0) downtimeSeconds.observe(m.stats().downtimeMs() / 1000.0);
      migratedBytes.observe(m.stats().transferredBytes());
    } else if (event instanceof VmEvent.VmMigrationFailed f) {
      migrations.labelValues("failed", ended(f.vmId())).inc();
    } else if (event instanceof VmEvent.VmSuspended s) {
      suspends.labelValues("succeeded", ended(s.vmId())).inc();
      suspendedBytes.observe(s.bytes());
    } else if (event instanceof VmEvent.VmSuspendFailed f) {
      suspends.labelValues("failed", ended(f.vmId())).inc();
    } else if (event instanceof VmEvent.VmResumed) {
      resumes.labelValues("succeeded").inc();
    } else if (event instanceof VmEvent.VmResumeFailed) {
      resumes.labelValues("failed").inc();
    } else if (event instanceof VmEvent.VmLost l) {
      moving.remove(l.vmId());
      lost.inc();
    }
  }

  private static String cause(Cause cause) {
    return cause == null ? "system" : cause.kind().name().toLowerCase();
  }

  /** The cause of the VM's move that just ended ("system" if its start was not seen). */
  private String ended(String vmId) {
    String cause = moving.remove(vmId);
    return cause == null ? "system" : cause;
  }

  /** Every metric of this member, in Prometheus' text format. */
  public String scrape() {
    return Metrics.text(registry);
  }
}
