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

  private final Histogram streamLag;
  private final Histogram decisionSeconds;
  /** Expiry warnings of timeslots not ended yet: when each was journaled, by timeslot id. */
  private final Map<String, java.time.Instant> warned = new ConcurrentHashMap<>();
  /** The timeslot each VM was last placed, migrated or resumed on, by VM id. */
  private final Map<String, String> slotOf = new ConcurrentHashMap<>();
  /** VMs whose first decision since their timeslot's warning was observed. */
  private final java.util.Set<String> decided = ConcurrentHashMap.newKeySet();

  /** The counters and histograms, at zero until the catalog feeds them events. */
  public ControlMetrics() {
    GaugeWithCallback.builder().name("ferry_event_stream_subscribers").help("Subscriptions to the event stream open on this member")
        .callback(cb -> cb.call(subscribed.get())).register(registry);
    streamLag = Histogram.builder().name("ferry_event_stream_lag_seconds")
        .help("From an event's journaling to its delivery to a subscriber on this member (events that happened while subscribed)")
        .classicOnly().classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).register(registry);
    decisionSeconds = Histogram.builder().name("ferry_expiry_decision_seconds")
        .help("From a timeslot's expiry warning to the first decision journaled for each VM on it (a migration, suspend or stop), by what decided it")
        .classicOnly().classicUpperBounds(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60).labelNames("cause").register(registry);
    CAUSES.forEach(decisionSeconds::initLabelValues);
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
    List<String> owner = perOwner ? List.of("owner") : List.of();
    Counter runs = Counter.builder().name("ferry_policy_runs_total")
        .help("Runs of users' policy scripts, by outcome (decided, unhandled: no handler for the event, failed: threw or ran past a limit)")
        .labelNames(concat(owner, "outcome")).register(registry);
    Histogram runSeconds = Histogram.builder().name("ferry_policy_run_duration_seconds")
        .help("How long each run of a user's policy script took").classicOnly()
        .classicUpperBounds(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5).labelNames(owner.toArray(String[]::new)).register(registry);
    if (!perOwner) {
      for (String outcome : List.of("decided", "unhandled", "failed")) runs.initLabelValues(outcome);
    }
    policyRuns = (who, outcome, seconds) -> {
      if (perOwner) {
        runs.labelValues(who, outcome).inc();
        runSeconds.labelValues(who).observe(seconds);
      } else {
        runs.labelValues(outcome).inc();
        runSeconds.observe(seconds);
      }
    };
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

  /** Told of each run of a user's policy script (by the timeslot keeper, on the member that runs it). */
  @FunctionalInterface
  public interface PolicyRuns {
    /**
     * @param outcome "decided" (a handler ran), "unhandled" (the script has no handler for the event) or "failed"
     */
    void ran(String owner, String outcome, double seconds);

    PolicyRuns NONE = (owner, outcome, seconds) -> {};
  }

  private volatile PolicyRuns policyRuns = PolicyRuns.NONE;

  /**
   * Where the keeper reports policy runs: {@code ferry_policy_runs_total} and {@code
   * ferry_policy_run_duration_seconds}, by owner while the endpoint needs an admin's token. Only
   * the member that runs the timeslot keeper (a cluster singleton) has runs to count.
   */
  public PolicyRuns policyRuns() {
    return policyRuns;
  }

  /** Told of the event stream's subscriptions and of each live event's delivery. */
  public interface Subscribers {
    void opened();

    void closed();

    /** An event that happened while the subscription was open reached it {@code lag} after it was journaled. */
    void delivered(java.time.Duration lag);

    Subscribers NONE = new Subscribers() {
      public void opened() {}

      public void closed() {}

      public void delivered(java.time.Duration lag) {}
    };
  }

  private final java.util.concurrent.atomic.AtomicInteger subscribed = new java.util.concurrent.atomic.AtomicInteger();

  /** Where the event stream reports: {@code ferry_event_stream_subscribers} and {@code ferry_event_stream_lag_seconds}. */
  public Subscribers subscribers() {
    return new Subscribers() {
      public void opened() {
        subscribed.incrementAndGet();
      }

      public void closed() {
        subscribed.decrementAndGet();
      }

      public void delivered(java.time.Duration lag) {
        streamLag.observe(Math.max(0, lag.toNanos()) / 1e9);
      }
    };
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

  private static String[] concat(List<String> first, String last) {
    List<String> all = new java.util.ArrayList<>(first);
    all.add(last);
    return all.toArray(String[]::new);
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
    decisions(event);
    if (event instanceof VmEvent.VmMigrationStarted s) {
      moving.put(s.vmId(), cause(s.cause()));
    } else if (event instanceof VmEvent.VmSuspendStarted s) {
      moving.put(s.vmId(), cause(s.cause()));
    } else if (event instanceof VmEvent.VmMigrated m) {
      // the figures first, the count last: a scrape that sees the migration counted sees its figures too
      if (m.stats().totalMs() > 0) migrationSeconds.observe(m.stats().totalMs() / 1000.0);
      if (m.stats().downtimeMs() >= 0) downtimeSeconds.observe(m.stats().downtimeMs() / 1000.0);
      migratedBytes.observe(m.stats().transferredBytes());
      migrations.labelValues("succeeded", ended(m.vmId())).inc();
    } else if (event instanceof VmEvent.VmMigrationFailed f) {
      migrations.labelValues("failed", ended(f.vmId())).inc();
    } else if (event instanceof VmEvent.VmSuspended s) {
      suspendedBytes.observe(s.bytes());
      suspends.labelValues("succeeded", ended(s.vmId())).inc();
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

  /**
   * {@code ferry_expiry_decision_seconds}: where each VM runs (its last placement, migration or
   * resume), which timeslots are warned of their expiry, and the first migration, suspend or stop
   * of a VM on a warned timeslot after the warning.
   */
  private void decisions(Object event) {
    if (event instanceof io.ferry.journal.timeslot.TimeslotEvent.TimeslotExpiring t) {
      warned.put(t.timeslotId(), t.at());
    } else if (event instanceof io.ferry.journal.timeslot.TimeslotEvent.TimeslotExpired t) {
      warned.remove(t.timeslotId());
    } else if (event instanceof io.ferry.journal.timeslot.TimeslotEvent.TimeslotReleased t) {
      warned.remove(t.timeslotId());
    } else if (event instanceof io.ferry.journal.timeslot.TimeslotEvent.TimeslotCancelled t) {
      warned.remove(t.timeslotId());
    } else if (event instanceof io.ferry.journal.timeslot.TimeslotEvent.TimeslotFailed t) {
      warned.remove(t.timeslotId());
    } else if (event instanceof VmEvent.VmPlaced p) {
      runsOn(p.vmId(), p.placement().timeslotId());
    } else if (event instanceof VmEvent.VmMigrated m) {
      runsOn(m.vmId(), m.target().timeslotId());
    } else if (event instanceof VmEvent.VmResumeStarted r) {
      runsOn(r.vmId(), r.placement().timeslotId());
    } else if (event instanceof VmEvent.VmDeleted d) {
      slotOf.remove(d.vmId());
      decided.remove(d.vmId());
    } else if (event instanceof VmEvent.VmMigrationStarted s) {
      decided(s.vmId(), s.cause(), s.at());
    } else if (event instanceof VmEvent.VmSuspendStarted s) {
      decided(s.vmId(), s.cause(), s.at());
    } else if (event instanceof VmEvent.VmStopRequested s) {
      decided(s.vmId(), s.cause(), s.at());
    } else if (event instanceof VmEvent.VmStopped s) {
      decided(s.vmId(), s.cause(), s.at());
    }
  }

  private void runsOn(String vmId, String timeslotId) {
    slotOf.put(vmId, timeslotId);
    decided.remove(vmId);
  }

  private void decided(String vmId, Cause cause, java.time.Instant at) {
    String slot = slotOf.get(vmId);
    java.time.Instant warning = slot == null ? null : warned.get(slot);
    if (warning == null || at.isBefore(warning) || !decided.add(vmId)) return;
    decisionSeconds.labelValues(cause(cause)).observe(java.time.Duration.between(warning, at).toNanos() / 1e9);
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
