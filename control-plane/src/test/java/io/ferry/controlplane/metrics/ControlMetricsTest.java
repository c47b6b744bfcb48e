package io.ferry.controlplane.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.Cause;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmFacts;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The control member's metrics from journaled events and catalog states, without a cluster. */
class ControlMetricsTest {
  private static final Instant NOW = Instant.parse("2026-12-04T10:00:00Z");
  private final List<VmState> vms = new ArrayList<>();

  private ControlMetrics metrics(boolean perOwner) {
    return new ControlMetrics().gauges(new ControlMetrics.Source() {
      public List<VmState> vms() {
        return vms;
      }

      public List<TimeslotState> timeslots() {
        return List.of(new TimeslotState.Active(TimeslotState.Empty.of("ts-1").facts()));
      }

      public List<NodeState> nodes() {
        return List.of(new NodeState.Joined(NodeState.Empty.of("n1").facts()));
      }
    }, perOwner);
  }

  private static VmFacts facts(String owner, String id) {
    return new VmFacts(id, new VmSpec(owner, Flavour.TINY, "tiny", VmMode.DYNAMIC), new Placement("ts-1", "n1"), null, "a1");
  }

  private static double value(String scrape, String series) {
    return Scrapes.value(scrape, series);
  }

  @Test
  void aMigrationIsCountedByOutcomeAndCauseWithQemusFigures() {
    ControlMetrics m = metrics(true);
    m.event(new VmEvent.VmMigrationStarted("alice/v1", new Placement("ts-2", "n2"), Cause.expiry("ts-1"), NOW, null, "a2"));
    m.event(new VmEvent.VmMigrated("alice/v1", new Placement("ts-2", "n2"), new MigrationStats(400, 20, 90_000_000), NOW));
    m.event(new VmEvent.VmMigrationStarted("alice/v1", new Placement("ts-3", "n3"), Cause.user("alice"), NOW, null, "a3"));
    m.event(new VmEvent.VmMigrationFailed("alice/v1", "target gone", NOW));
    // QEMU did not report the downtime (-1): the migration is counted, its downtime is not observed
    m.event(new VmEvent.VmMigrationStarted("alice/v1", new Placement("ts-3", "n3"), Cause.user("alice"), NOW, null, "a4"));
    m.event(new VmEvent.VmMigrated("alice/v1", new Placement("ts-3", "n3"), new MigrationStats(700, -1, 1_000), NOW));
    String s = m.scrape();
    assertEquals(1, value(s, "ferry_migrations_total{cause=\"timeslot_expiry\",outcome=\"succeeded\"}"));
    assertEquals(1, value(s, "ferry_migrations_total{cause=\"user\",outcome=\"succeeded\"}"));
    assertEquals(1, value(s, "ferry_migrations_total{cause=\"user\",outcome=\"failed\"}"));
    assertEquals(0, value(s, "ferry_migrations_total{cause=\"policy\",outcome=\"failed\"}"));
    assertEquals(2, value(s, "ferry_migration_duration_seconds_count"));
    assertEquals(1.1, value(s, "ferry_migration_duration_seconds_sum"), 1e-9);
    assertEquals(1, value(s, "ferry_migration_duration_seconds_bucket{le=\"0.5\"}"));
    assertEquals(1, value(s, "ferry_migration_downtime_seconds_count"));
    assertEquals(0.02, value(s, "ferry_migration_downtime_seconds_sum"), 1e-9);
    assertEquals(2, value(s, "ferry_migration_transferred_bytes_count"));
  }

  /** The time from a timeslot's warning to the first decision about each VM on it. */
  @Test
  void theWarningToDecisionLatencyIsObservedOncePerVmAndWarning() {
    ControlMetrics m = metrics(true);
    m.event(new VmEvent.VmPlaced("alice/a", new Placement("ts-1", "n1"), Cause.user("alice"), NOW, "a1"));
    m.event(new VmEvent.VmPlaced("alice/b", new Placement("ts-1", "n1"), Cause.user("alice"), NOW, "a1"));
    m.event(new VmEvent.VmPlaced("alice/c", new Placement("ts-9", "n9"), Cause.user("alice"), NOW, "a1"));
    // a user's migration before any warning is no decision about an expiry
    m.event(new VmEvent.VmMigrationStarted("alice/a", new Placement("ts-2", "n2"), Cause.user("alice"), NOW, null, "a2"));
    m.event(new VmEvent.VmMigrationFailed("alice/a", "cancelled", NOW));
    m.event(new TimeslotEvent.TimeslotExpiring("ts-1", "walltime", NOW.plusSeconds(10)));
    m.event(new VmEvent.VmMigrationStarted("alice/a", new Placement("ts-2", "n2"), Cause.expiry("ts-1"), NOW.plusMillis(10_400), null, "a3"));
    m.event(new VmEvent.VmMigrationFailed("alice/a", "target gone", NOW.plusSeconds(12)));
    // its second try is not a second first decision
    m.event(new VmEvent.VmSuspendStarted("alice/a", "/s/a.img", Cause.expiry("ts-1"), NOW.plusSeconds(13), "a4"));
    m.event(new VmEvent.VmSuspendStarted("alice/b", "/s/b.img", Cause.policy("mine@2", "no room"), NOW.plusSeconds(12), "a2"));
    // a VM on another timeslot is no decision about ts-1's expiry
    m.event(new VmEvent.VmStopRequested("alice/c", Cause.user("alice"), NOW.plusSeconds(12), "a2"));
    String s = m.scrape();
    assertEquals(1, value(s, "ferry_expiry_decision_seconds_count{cause=\"timeslot_expiry\"}"));
    assertEquals(0.4, value(s, "ferry_expiry_decision_seconds_sum{cause=\"timeslot_expiry\"}"), 1e-9);
    assertEquals(1, value(s, "ferry_expiry_decision_seconds_count{cause=\"policy\"}"));
    assertEquals(2.0, value(s, "ferry_expiry_decision_seconds_sum{cause=\"policy\"}"), 1e-9);
    assertEquals(0, value(s, "ferry_expiry_decision_seconds_count{cause=\"user\"}"), "no decision of a user's");

    // once the VM runs on the next timeslot and that one is warned, it is decided on again
    m.event(new VmEvent.VmResumeStarted("alice/a", new Placement("ts-3", "n3"), Cause.system("room"), NOW.plusSeconds(20), "a5"));
    m.event(new TimeslotEvent.TimeslotExpiring("ts-3", "walltime", NOW.plusSeconds(30)));
    m.event(new VmEvent.VmMigrationStarted("alice/a", new Placement("ts-4", "n4"), Cause.expiry("ts-3"), NOW.plusSeconds(31), null, "a6"));
    assertEquals(2, value(m.scrape(), "ferry_expiry_decision_seconds_count{cause=\"timeslot_expiry\"}"));
  }

  @Test
  void suspendsResumesAndLossesAreCounted() {
    ControlMetrics m = metrics(true);
    m.event(new VmEvent.VmSuspendStarted("bob/v", "/s/v.img", Cause.expiry("ts-1"), NOW, "a1"));
    m.event(new VmEvent.VmSuspended("bob/v", "/s/v.img", 5_000_000, NOW));
    m.event(new VmEvent.VmResumeStarted("bob/v", new Placement("ts-2", "n2"), Cause.system("free timeslot"), NOW, "a2"));
    m.event(new VmEvent.VmResumeFailed("bob/v", "no image", NOW));
    m.event(new VmEvent.VmLost("bob/v", "n2", NOW, "QEMU exited"));
    String s = m.scrape();
    assertEquals(1, value(s, "ferry_suspends_total{cause=\"timeslot_expiry\",outcome=\"succeeded\"}"));
    assertEquals(1, value(s, "ferry_suspend_image_bytes_count"));
    assertEquals(1, value(s, "ferry_resumes_total{outcome=\"failed\"}"));
    assertEquals(0, value(s, "ferry_resumes_total{outcome=\"succeeded\"}"));
    assertEquals(1, value(s, "ferry_vms_lost_total"));
  }

  @Test
  void stagesAreCountedAndPerOwnerSeriesOnlyWhenAsked() {
    vms.add(new VmState.Running(facts("alice", "alice/a")));
    vms.add(new VmState.Running(facts("bob", "bob/b")));
    vms.add(new VmState.Suspended(facts("bob", "bob/c")));
    vms.add(new VmState.Deleted(facts("bob", "bob/d")));
    String s = metrics(true).scrape();
    assertEquals(2, value(s, "ferry_vms{stage=\"Running\"}"));
    assertEquals(1, value(s, "ferry_vms{stage=\"Suspended\"}"));
    assertFalse(s.contains("stage=\"Deleted\""), "deleted VMs are not counted");
    assertEquals(1, value(s, "ferry_owner_vms{owner=\"bob\",stage=\"Running\"}"));
    assertEquals(1, value(s, "ferry_timeslots{stage=\"Active\"}"));
    assertEquals(1, value(s, "ferry_nodes{stage=\"Joined\"}"));
    String open = metrics(false).scrape();
    assertFalse(open.contains("ferry_owner_vms"), "a public scrape holds no owner's figures");
    assertFalse(open.contains("alice") || open.contains("bob"), "a public scrape names no user");
    assertTrue(open.contains("jvm_memory_used_bytes"), "the JVM's metrics are there too");
  }

  @Test
  void policyRunsAreCountedAndTimedByOwnerOnlyBehindTheToken() {
    ControlMetrics m = metrics(true);
    m.policyRuns().ran("alice", "decided", 0.003);
    m.policyRuns().ran("alice", "failed", 2.0);
    m.policyRuns().ran("bob", "unhandled", 0.001);
    String s = m.scrape();
    assertEquals(1, value(s, "ferry_policy_runs_total{outcome=\"failed\",owner=\"alice\"}"));
    assertEquals(1, value(s, "ferry_policy_runs_total{outcome=\"unhandled\",owner=\"bob\"}"));
    assertEquals(2, value(s, "ferry_policy_run_duration_seconds_count{owner=\"alice\"}"));
    ControlMetrics open = metrics(false);
    open.policyRuns().ran("alice", "failed", 2.0);
    String o = open.scrape();
    assertEquals(1, value(o, "ferry_policy_runs_total{outcome=\"failed\"}"));
    assertEquals(0, value(o, "ferry_policy_runs_total{outcome=\"decided\"}"));
    assertEquals(1, value(o, "ferry_policy_run_duration_seconds_count"));
    assertFalse(o.contains("alice"));
  }

  /** docs/metrics.md lists exactly the ferry_* families a control member exports (not the agents'). */
  @Test
  void theMetricTableInTheDocsMatchesWhatIsExported() throws IOException {
    vms.add(new VmState.Running(facts("alice", "alice/a")));
    ControlMetrics m = metrics(true);
    m.policyRuns().ran("alice", "decided", 0.003);
    Set<String> exported = families(m.scrape());
    exported.removeIf(n -> !n.startsWith("ferry_"));
    Set<String> documented = documented(Path.of("../docs/metrics.md"));
    documented.removeIf(n -> n.startsWith("ferry_agent_"));
    assertEquals(documented, exported, "docs/metrics.md's table against a control member's scrape");
  }

  /** The metric families of a scrape, from its TYPE lines. */
  static Set<String> families(String scrape) {
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(scrape);
    while (m.find()) names.add(m.group(1));
    return names;
  }

  /** The names in the first column of docs/metrics.md's tables ({@code | `name` | …}). */
  static Set<String> documented(Path doc) throws IOException {
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^\\| `(ferry_[a-z_]+)` \\|").matcher(Files.readString(doc));
    while (m.find()) names.add(m.group(1));
    return names;
  }
}
