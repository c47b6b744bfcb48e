package io.ferry.controlplane.qemu;

import static io.ferry.controlplane.qemu.QemuCluster.runningOn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.entity.Vm;
import io.ferry.controlplane.metrics.Scrapes;
import io.ferry.journal.Cause;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * VMs driven through the Vm entity on real QEMU: a control member on real Cassandra and two node
 * agents in this JVM, A and B, each running its QEMUs as child processes. The guest's counter
 * proves that migrated and resumed guests really continued.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmOnQemuIT {
  QemuCluster cluster;
  String a;
  String b;
  ActorSystem<Void> agentA;
  ActorSystem<Void> agentB;

  @BeforeAll
  void start() throws Exception {
    cluster = new QemuCluster();
    a = cluster.node("a");
    b = cluster.node("b");
    agentA = cluster.startAgent(a);
    agentB = cluster.startAgent(b);
  }

  @AfterAll
  void stop() {
    if (agentA != null) agentA.terminate();
    if (agentB != null) agentB.terminate();
    if (cluster != null) cluster.close();
  }

  private Placement on(String node) {
    return new Placement("slot-" + node, node);
  }

  @Test
  void aGuestMigratedABABContinuesEachTimeAndTheJournalHoldsQemusFigures() {
    String vm = cluster.createRunning("hop", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle current = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(current), 5);
    EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vm, a);
    String here = a;
    for (String next : List.of(b, a, b)) {
      TestProbe<MigrationProgress> progress = TestProbe.create(cluster.control);
      Cause cause = Cause.expiry("slot-" + here);
      cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(next), MigrationSettings.DEFAULT, progress.ref(),
          cause, r)).toCompletableFuture().join();
      cluster.awaitVm(vm, runningOn(next));
      VmHandle moved = cluster.handle(next, vm);
      QemuCluster.assertContinued(current, moved);
      List<Integer> percents = new ArrayList<>();
      progress.fishForMessage(Duration.ofSeconds(10), p -> {
        percents.add(p.percent());
        return p.percent() == 100 ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore();
      });
      for (int i = 1; i < percents.size(); i++) assertTrue(percents.get(i) >= percents.get(i - 1), "ran backwards: " + percents);
      // the entity moved with its QEMU
      EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vm, next);
      current = moved;
      here = next;
    }
    List<VmEvent.VmMigrated> migrations = cluster.journal(vm, VmEvent.VmMigrated.class);
    assertEquals(List.of(b, a, b), migrations.stream().map(m -> m.target().nodeId()).toList());
    for (VmEvent.VmMigrated m : migrations) {
      assertTrue(m.stats().totalMs() > 0, "total " + m.stats());
      assertTrue(m.stats().transferredBytes() > 0, "bytes " + m.stats());
      assertTrue(m.stats().downtimeMs() >= 0, "downtime " + m.stats());
    }
    stopAndAwait(vm);
  }

  @Test
  void aGuestSuspendedOnAResumesOnBAndContinues() {
    String vm = cluster.createRunning("susp", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle before = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(before), 5);
    cluster.entities.vm(vm, r -> new Vm.SuspendVm(vm + ".state", Cause.user("alice"), r)).toCompletableFuture().join();
    VmState suspended = cluster.awaitVm(vm, s -> s instanceof VmState.Suspended);
    assertEquals(vm + ".state", suspended.facts().lastImage());
    assertTrue(cluster.journal(vm, VmEvent.VmSuspended.class).get(0).bytes() > 1_000_000);
    EntityHost.awaitOnControl(cluster.control, cluster.entities, vm); // it runs nowhere: its entity lives on a control member
    cluster.entities.vm(vm, r -> new Vm.ResumeVm(on(b), Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.awaitVm(vm, runningOn(b));
    QemuCluster.assertContinued(before, cluster.handle(b, vm));
    EntityHost.awaitOnAgentOf(cluster.control, cluster.entities, vm, b);
    stopAndAwait(vm);
  }

  @Test
  void aMigrationThatCannotConvergeByItsDeadlineIsCancelledAndTheSourceRunsOn() {
    String vm = cluster.createRunning("slow", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle source = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(source), 3);
    // 1 MiB/s cannot move 128 MiB of guest memory within 1.5 s.
    MigrationSettings hopeless = new MigrationSettings(1 << 20, 300, false, false, Duration.ofMillis(1500));
    cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(b), hopeless, null, Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.await("the migration of " + vm + " to fail", () -> cluster.journal(vm, VmEvent.VmMigrationFailed.class), l -> !l.isEmpty());
    VmState after = cluster.awaitVm(vm, runningOn(a));
    assertInstanceOf(VmState.Running.class, after);
    String reason = cluster.journal(vm, VmEvent.VmMigrationFailed.class).get(0).reason();
    assertTrue(reason.contains("did not converge"), reason);
    long counted = GuestConsole.last(QemuCluster.console(source)).n();
    TestImages.awaitCount(QemuCluster.console(source), counted + 5);
    stopAndAwait(vm);
  }

  @Test
  void killingTheTargetQemuDuringAMigrationFailsItAndTheSourceRunsOn() {
    String vm = cluster.createRunning("kill", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle source = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(source), 3);
    MigrationSettings slow = new MigrationSettings(2 << 20, 300, false, false, Duration.ofSeconds(40));
    cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(b), slow, null, Cause.user("alice"), r)).toCompletableFuture().join();
    ProcessHandle target = cluster.await("the target QEMU of " + vm, () -> ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().orElse("").contains("ferry-" + vm) && p.info().commandLine().orElse("").contains("-incoming"))
        .findFirst().orElse(null), p -> p != null);
    cluster.await("the migration of " + vm + " to be under way", () -> cluster.vm(vm), s -> s instanceof VmState.Migrating);
    target.destroyForcibly();
    cluster.await("the migration of " + vm + " to fail", () -> cluster.journal(vm, VmEvent.VmMigrationFailed.class), l -> !l.isEmpty());
    cluster.awaitVm(vm, runningOn(a));
    long counted = GuestConsole.last(QemuCluster.console(source)).n();
    TestImages.awaitCount(QemuCluster.console(source), counted + 5);
    assertEquals(GuestConsole.counts(QemuCluster.console(source)).get(0).boot(), GuestConsole.last(QemuCluster.console(source)).boot());
    stopAndAwait(vm);
  }

  @Test
  void theApisWatchedMigrationStreamsProgressThenTheMovedVm() throws Exception {
    String vm = cluster.createRunning("watch", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle before = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(before), 3);
    String target = "slot-w-" + cluster.run;
    java.time.Instant now = java.time.Instant.now();
    cluster.entities.timeslot(target, r -> new io.ferry.controlplane.entity.Timeslot.RequestTimeslot("alice",
        new io.ferry.journal.timeslot.TimeslotRequest(2, 2048, Duration.ofHours(1), ""), "local", Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.entities.timeslot(target, r -> new io.ferry.controlplane.entity.Timeslot.RecordSubmitted("1", r)).toCompletableFuture().join();
    cluster.entities.timeslot(target, r -> new io.ferry.controlplane.entity.Timeslot.Activate(b, now, now.plusSeconds(3600), r)).toCompletableFuture().join();
    var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(cluster.apiUrl + "/v1/vms/" + vm + "/migrate?watch=true"))
        .header("Authorization", "Bearer " + cluster.userToken).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"timeslot\":\"" + target + "\"}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofLines());
    assertEquals(202, response.statusCode());
    List<com.fasterxml.jackson.databind.JsonNode> lines = new ArrayList<>();
    for (String line : (Iterable<String>) response.body()::iterator) lines.add(io.ferry.controlplane.api.ApiJson.MAPPER.readTree(line));
    assertEquals("started", lines.get(0).path("type").asText());
    var done = lines.get(lines.size() - 1);
    assertEquals("done", done.path("type").asText(), lines.toString());
    assertEquals(b, done.path("vm").path("node").asText());
    List<Integer> percents = lines.stream().filter(l -> l.path("type").asText().equals("progress")).map(l -> l.path("percent").asInt()).toList();
    assertTrue(!percents.isEmpty() && percents.get(percents.size() - 1) == 100, "progress " + percents);
    QemuCluster.assertContinued(before, cluster.handle(b, vm));
    stopAndAwait(vm);
  }

  /**
   * A migration's progress is seen through a control member that did not start it: its API's
   * progress stream and the CLI's {@code vm watch} (the source agent publishes on the cluster's
   * progress topic). The migrations are slowed to 16 MiB/s (~5 s) so that they are watched midway.
   */
  @Test
  void aMigrationsProgressIsSeenThroughAnotherControlMemberByTheApiAndTheCli() throws Exception {
    ActorSystem<Void> other = cluster.startControl();
    try {
      String url = "http:/" + io.ferry.controlplane.ControlPlane.api(other).toCompletableFuture().join().localAddress();
      String vm = cluster.createRunning("far", a, Flavour.TINY, "tiny");
      cluster.awaitVm(vm, runningOn(a));
      VmHandle source = cluster.handle(a, vm);
      TestImages.awaitCounting(QemuCluster.console(source), 3);
      var http = java.net.http.HttpClient.newHttpClient();
      var idle = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/v1/vms/" + vm + "/progress"))
          .header("Authorization", "Bearer " + cluster.userToken).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(409, idle.statusCode(), idle.body());
      assertTrue(idle.body().contains("no migration is in flight"), idle.body());

      MigrationSettings slow = new MigrationSettings(16L << 20, 300, false, false, Duration.ofSeconds(120));
      cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(b), slow, null, Cause.user("alice"), r)).toCompletableFuture().join();
      var response = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/v1/vms/" + vm + "/progress"))
          .header("Authorization", "Bearer " + cluster.userToken).build(), java.net.http.HttpResponse.BodyHandlers.ofLines());
      assertEquals(202, response.statusCode());
      List<com.fasterxml.jackson.databind.JsonNode> lines = new ArrayList<>();
      for (String line : (Iterable<String>) response.body()::iterator) lines.add(io.ferry.controlplane.api.ApiJson.MAPPER.readTree(line));
      List<Integer> percents = lines.stream().filter(l -> l.path("type").asText().equals("progress")).map(l -> l.path("percent").asInt()).toList();
      assertTrue(percents.size() >= 2, "progress through the other member: " + lines);
      for (int i = 1; i < percents.size(); i++) assertTrue(percents.get(i) >= percents.get(i - 1), "ran backwards: " + percents);
      var done = lines.get(lines.size() - 1);
      assertEquals("succeeded", done.path("outcome").asText(), done.toString());
      assertEquals(b, done.path("vm").path("node").asText());
      VmHandle moved = cluster.handle(b, vm);
      QemuCluster.assertContinued(source, moved);

      // and back, watched with the CLI through the other member
      cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(a), slow, null, Cause.user("alice"), r)).toCompletableFuture().join();
      assertEquals(0, io.ferry.cli.FerryCli.run("--server", url, "--token", cluster.userToken, "vm", "watch", vm),
          "ferry vm watch exits 0 once the migration succeeded");
      cluster.awaitVm(vm, runningOn(a));
      QemuCluster.assertContinued(moved, cluster.handle(a, vm));
      stopAndAwait(vm);
    } finally {
      QemuCluster.leave(other);
    }
  }

  /**
   * The control member's and the agents' /metrics pass promtool, and one real migration moves the
   * migration counter and histograms by one (the counters are read back from the journal, so the
   * probe waits out the catalog's tag-query delay).
   */
  @Test
  void metricsPassPromtoolAndAMigrationMovesTheCountersAndHistogramsByOne() throws Exception {
    String url = cluster.apiUrl + "/metrics";
    assertEquals(403, Scrapes.get(url, cluster.userToken).statusCode(), "a user's token may not read every user's figures");
    assertEquals(401, Scrapes.get(url, null).statusCode());
    String before = Scrapes.get(url, cluster.adminToken).body();
    Scrapes.promtool(before, "the control member");
    String ok = "ferry_migrations_total{cause=\"user\",outcome=\"succeeded\"}";
    double migrated = Scrapes.value(before, ok);

    String vm = cluster.createRunning("metrics", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle source = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(source), 3);
    cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(b), MigrationSettings.DEFAULT, null, Cause.user("alice"), r))
        .toCompletableFuture().join();
    cluster.awaitVm(vm, runningOn(b));
    QemuCluster.assertContinued(source, cluster.handle(b, vm));

    String after = io.ferry.journal.testing.Eventually.await("the migration counted in " + url, Duration.ofSeconds(15),
        Duration.ofMillis(200), () -> Scrapes.get(url, cluster.adminToken).body(), body -> Scrapes.value(body, ok) > migrated);
    assertEquals(migrated + 1, Scrapes.value(after, ok), "one more migration by a user, succeeded");
    for (String histogram : List.of("ferry_migration_duration_seconds_count", "ferry_migration_downtime_seconds_count",
        "ferry_migration_transferred_bytes_count")) {
      assertEquals(Scrapes.value(before, histogram) + 1, Scrapes.value(after, histogram), histogram);
    }
    assertTrue(Scrapes.value(after, "ferry_owner_vms{owner=\"alice\",stage=\"Running\"}") >= 1, "the admin sees per-owner figures");
    Scrapes.promtool(after, "the control member after a migration");

    for (String node : List.of(a, b)) {
      String address = java.nio.file.Files.readString(cluster.stateDir(node).resolve("metrics.address")).trim();
      String agent = Scrapes.get("http://" + address + "/metrics", null).body();
      Scrapes.promtool(agent, "the agent of " + node);
      assertEquals(1, Scrapes.value(agent, "ferry_agent_member_up"), node);
      assertEquals(1, Scrapes.value(agent, "ferry_agent_info{node=\"" + node + "\"}"), node);
      assertEquals(0, Scrapes.value(agent, "ferry_agent_fenced"), node);
      assertTrue(!agent.contains(vm) && !agent.contains("alice"), "an agent's open endpoint names no VM or user");
    }
    stopAndAwait(vm);
  }

  /**
   * Finding 3 of "a core that never lies": a QEMU killed behind Ferry's back stayed Running for
   * over a minute. Its agent sees the exit and the VM is recorded Lost, with QEMU's words.
   */
  @Test
  void aQemuKilledBehindFerrysBackIsRecordedLostWithHowItEnded() {
    String vm = cluster.createRunning("crash", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle handle = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(handle), 3);
    ProcessHandle.of(handle.pid()).orElseThrow().destroyForcibly();
    VmState lost = cluster.awaitVm(vm, s -> s instanceof VmState.Lost);
    String reason = ((VmState.Lost) lost).reason();
    assertTrue(reason.contains("killed by signal 9"), reason);
    assertTrue(reason.contains("node " + a), reason);
    assertEquals(List.of(), QemuCensus.qemusOf(vm), "no QEMU of it is left");
    VmEvent.VmLost event = cluster.journal(vm, VmEvent.VmLost.class).get(0);
    assertEquals(a, event.nodeId());
    // a stop now stops what no longer runs, at once
    stopAndAwait(vm);
  }

  /** A stop that arrives while a migration is under way cancels it, and neither QEMU is left. */
  @Test
  void aStopDuringAMigrationCancelsItAndLeavesNoQemu() {
    String vm = cluster.createRunning("stopmig", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    TestImages.awaitCounting(QemuCluster.console(cluster.handle(a, vm)), 3);
    MigrationSettings slow = new MigrationSettings(2 << 20, 300, false, false, Duration.ofSeconds(40));
    cluster.entities.vm(vm, r -> new Vm.MigrateVm(on(b), slow, null, Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.await("the target QEMU of " + vm, () -> QemuCensus.qemusOf(vm).stream().filter(c -> c.contains("-incoming")).count(),
        n -> n > 0);
    stopAndAwait(vm);
    cluster.await("every QEMU of " + vm + " to end", () -> QemuCensus.qemusOf(vm), List::isEmpty);
    assertEquals(List.of(), cluster.journal(vm, VmEvent.VmMigrated.class), "the migration did not win");
  }

  @Test
  void aFlavourTooSmallToBootFailsTheVmWithTheReason() {
    String vm = cluster.createRunning("micro", a, new Flavour("micro", 1, 64), "tiny");
    VmState failed = cluster.awaitVm(vm, s -> s instanceof VmState.Failed);
    String reason = ((VmState.Failed) failed).reason();
    assertTrue(reason.contains("at least 96 MiB"), reason);
  }

  @Test
  void anImageThatDoesNotExistFailsTheVmWithTheReason() {
    String vm = cluster.createRunning("noimg", a, Flavour.TINY, "no-such-image");
    VmState failed = cluster.awaitVm(vm, s -> s instanceof VmState.Failed);
    String reason = ((VmState.Failed) failed).reason();
    assertTrue(reason.contains("image 'no-such-image' does not exist"), reason);
  }

  private void stopAndAwait(String vm) {
    cluster.entities.vm(vm, r -> new Vm.StopVm(Cause.user("alice"), r)).toCompletableFuture().join();
    cluster.awaitVm(vm, s -> s instanceof VmState.Stopped);
  }
}
