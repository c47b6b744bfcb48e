package io.ferry.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The sandbox and the port: what a script may do, and how each way of misbehaving is stopped. */
class PolicyEngineTest {
  static final PolicyEngine ENGINE = new PolicyEngine(new PolicyEngine.Limits(200_000, Duration.ofSeconds(2), 32L << 20));
  static final String VIEW = """
      {"now": 0, "owner": "alice", "migrationBytesPerSecond": 104857600, "safetyMarginSeconds": 10,
       "timeslots": [{"id": "ts-a", "stage": "Expiring", "node": "n1", "freeCores": 0, "freeMemoryMiB": 0, "secondsLeft": 50},
                     {"id": "ts-b", "stage": "Active", "node": "n2", "freeCores": 2, "freeMemoryMiB": 2048, "secondsLeft": 900},
                     {"id": "ts-c", "stage": "Active", "node": "n3", "freeCores": 2, "freeMemoryMiB": 2048, "secondsLeft": 300}],
       "vms": [{"id": "vm-1", "stage": "Running", "timeslot": "ts-a", "node": "n1", "vcpus": 1, "memoryMiB": 128, "mode": "DYNAMIC",
                "lastMigrationMs": 0, "lastDowntimeMs": 0}]}""";
  static final String EVENT = "{\"type\": \"timeslot.expiring\", \"timeslot\": \"ts-a\"}";

  @AfterAll
  static void close() {
    ENGINE.close();
  }

  static PolicyEngine.Outcome run(String script) {
    return ENGINE.run("policy.js", script, "timeslot.expiring", EVENT, VIEW);
  }

  static String failure(String script) {
    PolicyEngine.Outcome o = run(script);
    return assertInstanceOf(PolicyEngine.Outcome.Failed.class, o, "expected a failure, got " + o).reason();
  }

  @Test
  void aHandlerMovesEachVmToTheTimeslotWithTheMostTimeLeftAndAsksForMore() {
    var o = run("""
        on('timeslot.expiring', function (event, view) {
          var active = view.timeslots.filter(function (t) { return t.stage === 'Active'; });
          active.sort(function (a, b) { return b.secondsLeft - a.secondsLeft; });
          view.vms.filter(function (v) { return v.timeslot === event.timeslot; })
              .forEach(function (v) { ferry.migrate(v.id, active[0].id); });
          if (active.length < 3) ferry.requestTimeslot({cores: 2, memoryMiB: 2048, walltimeSeconds: 3600, partition: 'ferry'});
          ferry.log('moved to', active[0].id);
        });""");
    var d = assertInstanceOf(PolicyEngine.Outcome.Decided.class, o, o.toString());
    assertEquals(List.of(new PolicyAction.Migrate("vm-1", "ts-b"), new PolicyAction.RequestTimeslot(2, 2048, 3600, "ferry")), d.actions());
    assertEquals(List.of("moved to ts-b"), d.logs());
    assertEquals(List.of(5, 6), d.lines(), "the script lines that asked");
    assertEquals(1, d.handlers());
  }

  @Test
  void hostClassesAreOutOfReach() {
    String reason = failure("on('timeslot.expiring', function () { Java.type('java.lang.System').exit(1); });");
    assertTrue(reason.contains("host class") || reason.contains("Java"), reason);
  }

  @Test
  void loadFilesAndNetworkAreOutOfReach() {
    assertTrue(failure("load('/etc/passwd');").contains("not allowed"), "load of a file");
    String url = failure("load('http://127.0.0.1:1/x.js');");
    assertTrue(url.contains("Cannot load") || url.contains("not allowed"), "load of a URL: " + url);
    var o = assertInstanceOf(PolicyEngine.Outcome.Decided.class,
        run("ferry.log(typeof fetch, typeof require, typeof XMLHttpRequest, typeof Polyglot, typeof process, typeof java);"));
    assertEquals(List.of("undefined undefined undefined undefined undefined undefined"), o.logs());
  }

  @Test
  void anEndlessLoopIsStoppedAtItsStatementLimit() {
    String reason = failure("on('timeslot.expiring', function () { while (true) {} });");
    assertTrue(reason.startsWith("stopped") && reason.contains("Statement count limit"), reason);
    assertTrue(reason.contains("line 1"), "points at the script: " + reason);
  }

  @Test
  void deepRecursionIsStopped() {
    String reason = failure("function f(n) { return f(n + 1) + 1; }\non('timeslot.expiring', function () { f(0); });");
    assertTrue(reason.contains("call stack") || reason.startsWith("stopped"), reason);
  }

  @Test
  void aHugeAllocationIsStoppedAtTheBudget() {
    long start = System.nanoTime();
    String reason = failure("var a = []; for (;;) { a.push(new Array(100000).fill(1)); }");
    assertTrue(reason.startsWith("stopped"), reason);
    assertTrue(reason.contains("allocated more than 32 MiB") || reason.contains("Statement count"), reason);
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(30).toNanos(), "within its limits");
  }

  @Test
  void aScriptThatThrowsFailsWithItsMessageAndLine() {
    String reason = failure("\non('timeslot.expiring', function () {\n  throw new Error('no plan');\n});");
    assertTrue(reason.contains("no plan") && reason.contains("line 3"), reason);
  }

  @Test
  void nonsenseActionsAreRefusedWithWhatIsWrong() {
    assertTrue(failure("on('timeslot.expiring', function () { return [{action: 'teleport', vm: 'vm-1'}]; });")
        .contains("unknown action 'teleport'"));
    assertTrue(failure("on('timeslot.expiring', function () { ferry.migrate('vm-1'); });").contains("needs a text field 'timeslot'"));
    assertTrue(failure("on('timeslot.expiring', function () { ferry.requestTimeslot({cores: -1}); });").contains("positive number"));
  }

  @Test
  void aSyntaxErrorIsRejectedWithLineAndColumn() {
    var error = assertThrows(PolicyEngine.ScriptError.class, () -> ENGINE.check("policy.js", "on('x', function () {\n  var = 1;\n});"));
    assertEquals(2, error.line());
    assertTrue(error.column() > 0, "column " + error.column());
    assertTrue(error.getMessage().startsWith("syntax error"), error.getMessage());
  }

  @Test
  void eventsWithoutAHandlerAskForNothing() {
    var o = ENGINE.run("policy.js", "on('vm.state', function () {});", "timeslot.ended", "{}", VIEW);
    var d = assertInstanceOf(PolicyEngine.Outcome.Decided.class, o, o.toString());
    assertEquals(0, d.handlers());
    assertTrue(d.actions().isEmpty());
  }

  @Test
  void aCheckRunsTheTopLevelOnlyNotEvenAStarHandler() {
    // a '*' handler that would run forever: the check does not call it
    ENGINE.check("policy.js", "on('*', function () { while (true) {} });");
    // the top level itself is held to the limits
    var error = assertThrows(PolicyEngine.ScriptError.class, () -> ENGINE.check("policy.js", "while (true) {}\non('x', function () {});"));
    assertTrue(error.getMessage().startsWith("stopped"), error.getMessage());
    // what a check rejects is what its top level throws
    var thrown = assertThrows(PolicyEngine.ScriptError.class, () -> ENGINE.check("policy.js", "throw new Error('no');"));
    assertTrue(thrown.getMessage().contains("no"), thrown.getMessage());
  }

  @Test
  void aCheckIsHeldToTheEnginesLimitsTheOnesItsRunsHave() {
    try (PolicyEngine tight = new PolicyEngine(new PolicyEngine.Limits(1_000, Duration.ofSeconds(2), 32L << 20))) {
      String script = "for (var i = 0; i < 5000; i++) {}\non('x', function () {});";
      ENGINE.check("policy.js", script); // within 200,000 statements
      var error = assertThrows(PolicyEngine.ScriptError.class, () -> tight.check("policy.js", script));
      assertTrue(error.getMessage().startsWith("stopped"), error.getMessage());
    }
  }
}
