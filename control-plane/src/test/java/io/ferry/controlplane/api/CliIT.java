package io.ferry.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.Cause;
import io.ferry.journal.FerrySerializable;
import io.ferry.journal.timeslot.TimeslotEvent.*;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent.*;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The {@code ferry} CLI end to end, each command in its own JVM as a user runs it, against a
 * control member on a keyspace of its own (so {@code audit verify} sees only this test's journal).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
  ApiHarness api;
  Path config;
  final List<Process> background = new ArrayList<>();

  record Run(int exit, String out, String err) {}

  @BeforeAll
  void start() throws IOException {
    api = new ApiHarness(io.ferry.journal.testing.TestKeyspaces.fresh("ferry_cli"));
    config = api.dir.resolve("cli.json");
  }

  @AfterAll
  void stop() {
    background.forEach(Process::destroyForcibly);
    if (api != null) api.close();
  }

  private ProcessBuilder cli(String token, String... args) throws IOException {
    // the cli module's jar on its own class path, as bin/ferry runs it: no server classes at hand
    Path module = Path.of("..", "cli", "target").toAbsolutePath().normalize();
    String classpath = module.resolve("ferry-cli.jar") + ":" + Files.readString(module.resolve("runtime-classpath.txt")).trim();
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", classpath, "io.ferry.cli.FerryCli"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> env = pb.environment();
    env.put("FERRY_CONFIG", config.toString());
    env.put("FERRY_SERVER", api.url);
    if (token != null) env.put("FERRY_TOKEN", token);
    else env.remove("FERRY_TOKEN");
    return pb;
  }

  private Run run(String token, String... args) throws Exception {
    Process p = cli(token, args).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "ferry " + String.join(" ", args) + " did not end");
    return new Run(p.exitValue(), out, err);
  }

  @Test
  @Order(1)
  void aUserCreatesListsFollowsAndAuditsAVm() throws Exception {
    String id = "cli-" + api.run;
    Run created = run(api.aliceToken, "vm", "create", "--flavour", "tiny", "--image", "tiny", "--id", id);
    assertEquals(0, created.exit(), created.err());
    assertTrue(created.out().contains(id) && created.out().contains("Requested"), created.out());

    Run list = run(api.aliceToken, "vm", "list");
    assertEquals(0, list.exit(), list.err());
    assertTrue(list.out().startsWith("ID"), list.out());
    assertTrue(list.out().contains(id), list.out());
    Run json = run(api.aliceToken, "-o", "json", "vm", "show", id);
    assertEquals("Requested", ApiJson.MAPPER.readTree(json.out()).path("stage").asText(), json.out());
    // --watch: the list, then each row again as it changes; another user's watch shows none of it
    Path watched = api.dir.resolve("watch.out");
    Process watch = cli(api.aliceToken, "vm", "list", "--watch").redirectOutput(watched.toFile()).start();
    background.add(watch);
    Path bobWatched = api.dir.resolve("bob-watch.out");
    Process bobWatch = cli(api.bobToken, "vm", "list", "--watch").redirectOutput(bobWatched.toFile()).start();
    background.add(bobWatch);
    TestProbe<Object> watching = TestProbe.create(api.control);
    watching.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
      assertTrue(Files.readString(watched).contains("Requested") && Files.readString(bobWatched).startsWith("ID"),
          "watching so far: " + read(watched) + " / bob's: " + read(bobWatched));
      return null;
    });

    Path followed = api.dir.resolve("follow.out");
    Process follow = cli(api.aliceToken, "events", "--follow", "--type", "vm", "--id", id).redirectOutput(followed.toFile()).start();
    background.add(follow);
    TestProbe<Object> probe = TestProbe.create(api.control);
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(300), () -> {
      assertTrue(Files.readString(followed).contains("VmRequested"), "following so far: " + read(followed));
      return null;
    });
    assertEquals(0, run(api.aliceToken, "vm", "stop", id).exit());
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(300), () -> {
      assertTrue(Files.readString(followed).contains("VmStopped"), "following so far: " + read(followed));
      return null;
    });
    follow.destroy();
    String row = api.alice + "." + id + " "; // the list shows a VM's full id, owner.name
    watching.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(300), () -> {
      List<String> lines = Files.readAllLines(watched);
      assertTrue(lines.get(0).startsWith("ID"), "a header first: " + lines);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(row) && l.contains("Requested")), "the listed row: " + lines);
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(row) && l.contains("Stopped")), "the row again once stopped: " + lines);
      assertEquals(1, lines.stream().filter(l -> l.startsWith(row) && l.contains("Stopped")).count(), "printed once: " + lines);
      return null;
    });
    assertTrue(watch.isAlive(), "a watch goes on until interrupted");
    watch.destroy();
    bobWatch.destroy();
    assertFalse(read(bobWatched).contains(id), "bob's watch shows none of alice's VMs: " + read(bobWatched));

    Run events = run(api.aliceToken, "events", "--type", "vm");
    assertEquals(0, events.exit(), events.err());
    assertTrue(events.out().contains("VmRequested") && events.out().contains("VmStopped"), events.out());

    Run audit = run(api.aliceToken, "audit", "vm", id);
    assertEquals(0, audit.exit(), audit.err());
    assertTrue(audit.out().contains("VmRequested") && audit.out().contains("user") && audit.out().contains(api.alice), audit.out());
    assertTrue(audit.out().contains("state at"), audit.out());

    Run verify = run(api.adminToken, "audit", "verify");
    assertEquals(0, verify.exit(), verify.out() + verify.err());
    assertTrue(verify.out().contains("ok: no violations"), verify.out());
  }

  @Test
  @Order(2)
  void failuresEndWithMeaningfulExitCodesAndMessages() throws Exception {
    Run missing = run(api.aliceToken, "vm", "show", "nope-" + api.run);
    assertEquals(5, missing.exit());
    assertTrue(missing.err().contains("not found"), missing.err());
    Run badToken = run("fy_nope", "vm", "list");
    assertEquals(4, badToken.exit());
    Run noToken = run(null, "vm", "list");
    assertEquals(4, noToken.exit());
    assertTrue(noToken.err().contains("no bearer token"), noToken.err());
    Run badFlavour = run(api.aliceToken, "vm", "create", "--flavour", "huge", "--image", "tiny");
    assertEquals(1, badFlavour.exit());
    assertTrue(badFlavour.err().contains("unknown flavour 'huge'"), badFlavour.err());
    Run usage = run(api.aliceToken, "vm", "create", "--image", "tiny");
    assertEquals(2, usage.exit());
    Run notAdmin = run(api.aliceToken, "audit", "verify");
    assertEquals(4, notAdmin.exit());
    Process offline = cli(api.aliceToken, "--server", "http://127.0.0.1:1", "vm", "list").start();
    offline.waitFor(30, TimeUnit.SECONDS);
    assertEquals(3, offline.exitValue());
    assertTrue(new String(offline.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).contains("cannot reach Ferry"));
    assertEquals(0, run(null, "--help").exit());
    assertEquals(0, run(null, "vm", "migrate", "--help").exit());
  }

  /**
   * Finding 6 of "a core that never lies": a suspend that failed printed the VM as Running and
   * exited 0. The VM below runs (as its journal says) on a node whose agent is gone, so the
   * suspend really fails: the CLI prints the VM, the reason, and exits 1.
   */
  @Test
  @Order(2)
  void aSuspendThatFailsExitsNonZeroWithTheReason() throws Exception {
    String vm = api.alice + ".orphan-" + api.run;
    Instant t = Instant.now().minusSeconds(60);
    write("Vm|" + vm, List.of(
        new VmRequested(vm, new VmSpec(api.alice, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(api.alice), t),
        new VmPlaced(vm, new Placement("ts-gone-" + api.run, "n-gone"), Cause.user(api.alice), t.plusSeconds(1), "a2"),
        new VmStarting(vm, t.plusSeconds(2)),
        new VmStarted(vm, t.plusSeconds(3))));
    Run suspend = run(api.aliceToken, "vm", "suspend", vm);
    assertEquals(1, suspend.exit(), suspend.out() + suspend.err());
    assertTrue(suspend.err().contains("suspending " + vm + " failed"), suspend.err());
    assertTrue(suspend.err().contains("n-gone"), "the reason names the node: " + suspend.err());
    assertTrue(suspend.out().contains("Running"), "the VM is shown as it is: " + suspend.out());
  }

  @Test
  @Order(3)
  void anInjectedViolationMakesAuditVerifyFailNamingIt() throws Exception {
    String vm = "bad-" + api.run;
    String slot = "ts-bad-" + api.run;
    Instant t = Instant.now().minus(Duration.ofHours(2));
    write("Timeslot|" + slot, List.of(
        new TimeslotRequested(slot, api.alice, new TimeslotRequest(2, 2048, Duration.ofMinutes(30), ""), "local", Cause.user(api.alice), t),
        new TimeslotSubmitted(slot, "9", t.plusSeconds(1)),
        new TimeslotActivated(slot, "n9", t.plusSeconds(2), t.plusSeconds(1800), t.plusSeconds(2))));
    write("Vm|" + vm, List.of(
        new VmRequested(vm, new VmSpec(api.alice, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(api.alice), t.plusSeconds(3)),
        new VmPlaced(vm, new Placement(slot, "n9"), Cause.user(api.alice), t.plusSeconds(4), "a1"),
        new VmStarting(vm, t.plusSeconds(5)),
        new VmStarted(vm, t.plusSeconds(6)),
        new VmPlaced(vm, new Placement("elsewhere", "n8"), Cause.user("mallory"), t.plusSeconds(7), "a1")));
    Run verify = run(api.adminToken, "audit", "verify");
    assertEquals(6, verify.exit(), verify.out() + verify.err());
    assertTrue(verify.out().contains("VIOLATION runs-twice") && verify.out().contains("VM " + vm), verify.out());
    assertTrue(verify.out().contains("VIOLATION after-timeslot-end") && verify.out().contains("timeslot " + slot), verify.out());
  }

  private void write(String persistenceId, List<FerrySerializable> events) {
    ActorRef<RawJournalWriter.Write> writer = api.control.systemActorOf(RawJournalWriter.create(persistenceId),
        "raw-" + persistenceId.replace('|', '-'), org.apache.pekko.actor.typed.Props.empty());
    TestProbe<org.apache.pekko.Done> done = TestProbe.create(api.control);
    writer.tell(new RawJournalWriter.Write(events, done.ref()));
    done.receiveMessage(Duration.ofSeconds(20));
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  @Order(4)
  void policyTestDryRunsAScriptOnARecordedEventAndPrintsItsActions() throws Exception {
    Path examples = Path.of("..", "policies", "examples").toAbsolutePath().normalize();
    Run table = run(null, "policy", "test", examples.resolve("most-time-left.js").toString(),
        "--event", examples.resolve("timeslot-expiring.json").toString());
    assertEquals(0, table.exit(), table.err());
    assertTrue(table.out().contains("nothing was applied") && table.out().contains("Migrate  vm-1  ts-b"), table.out());
    Run json = run(null, "-o", "json", "policy", "test", examples.resolve("most-time-left.js").toString(),
        "--event", examples.resolve("timeslot-expiring.json").toString());
    JsonNode out = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
    assertEquals("ts-b", out.path("actions").get(0).path("timeslotId").asText());
    assertTrue(out.path("actions").get(0).path("accepted").asBoolean());

    Path broken = config.resolveSibling("broken-policy.js");
    Files.writeString(broken, "on('timeslot.expiring', function () {\n  var = 1;\n});\n");
    Run syntax = run(null, "policy", "test", broken.toString(), "--event", examples.resolve("timeslot-expiring.json").toString());
    assertEquals(2, syntax.exit());
    assertTrue(syntax.err().contains("line 2, column"), syntax.err());
    Path endless = config.resolveSibling("endless-policy.js");
    Files.writeString(endless, "on('timeslot.expiring', function () { while (true) {} });\n");
    Run stopped = run(null, "policy", "test", endless.toString(), "--event", examples.resolve("timeslot-expiring.json").toString());
    assertEquals(1, stopped.exit());
    assertTrue(stopped.err().contains("the policy failed: stopped"), stopped.err());

    // apply (checked in the sandbox first), versions, list, show, delete through the API
    String name = "most-time-left-" + api.run;
    Path script = examples.resolve("most-time-left.js");
    Run rejected = run(api.aliceToken, "policy", "apply", broken.toString(), "--name", name);
    assertEquals(1, rejected.exit(), rejected.err()); // Ferry refused it
    assertTrue(rejected.err().contains("not applied") && rejected.err().contains("line 2, column"), rejected.err());
    Run applied = run(api.aliceToken, "-o", "json", "policy", "apply", script.toString(), "--name", name);
    assertEquals(0, applied.exit(), applied.err());
    assertEquals(1, new com.fasterxml.jackson.databind.ObjectMapper().readTree(applied.out()).path("version").asInt());
    Files.writeString(config.resolveSibling("v2.js"), Files.readString(script) + "\n// v2\n");
    Run second = run(api.aliceToken, "-o", "json", "policy", "apply", config.resolveSibling("v2.js").toString(), "--name", name);
    assertEquals(2, new com.fasterxml.jackson.databind.ObjectMapper().readTree(second.out()).path("version").asInt(), second.err());
    assertEquals(4, run(api.bobToken, "policy", "apply", script.toString(), "--name", "x", "--site").exit(), "site-wide needs an admin");
    io.ferry.journal.testing.Eventually.await("the policy listed", java.time.Duration.ofSeconds(15), java.time.Duration.ofMillis(200),
        () -> {
          try {
            return run(api.aliceToken, "policy", "list").out();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, listed -> listed.contains("/" + name));
    assertTrue(run(api.aliceToken, "policy", "show", name).out().contains("// v2"));
    assertEquals(5, run(api.bobToken, "policy", "show", name).exit(), "another user's policy is not found");
    assertEquals(0, run(api.aliceToken, "policy", "delete", name).exit());
    assertEquals(5, run(api.aliceToken, "policy", "show", name).exit());
  }
}
