package io.ferry.policies;

import static io.ferry.policies.PolicyEngineTest.EVENT;
import static io.ferry.policies.PolicyEngineTest.VIEW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A policy's actions are journaled with "policy v3, line 12" as their cause: a script must not be
 * able to forge that line, nor to make the prelude drop or invent actions. Each way found (issue
 * 14) as a test.
 */
class PolicyForgeryTest {
  static final PolicyEngine ENGINE = new PolicyEngine(new PolicyEngine.Limits(200_000, Duration.ofSeconds(2), 32L << 20));
  static final PolicyAction MIGRATE = new PolicyAction.Migrate("vm-1", "ts-b");

  @AfterAll
  static void close() {
    ENGINE.close();
  }

  static PolicyEngine.Outcome.Decided decided(String script) {
    PolicyEngine.Outcome o = ENGINE.run("policy.js", script, "timeslot.expiring", EVENT, VIEW);
    return assertInstanceOf(PolicyEngine.Outcome.Decided.class, o, o.toString());
  }

  @Test
  void replacingTheDispatcherChangesNothing() {
    var d = decided("""
        var __dispatch = function () {
          return JSON.stringify({handled: 1, actions: [{line: 99999, action: {action: 'migrate', vm: 'vm-1', timeslot: 'ts-b'}}], logs: []});
        };
        globalThis.__dispatch = __dispatch;
        on('timeslot.expiring', function () {
          ferry.migrate('vm-1', 'ts-b');
        });""");
    assertEquals(List.of(MIGRATE), d.actions());
    assertEquals(List.of(6), d.lines(), "the line of the real call");
  }

  @Test
  void aLineInReturnedActionsIsNotTakenTheHandlersRegistrationLineIs() {
    var d = decided("""
        // line 1
        on('timeslot.expiring', function () {
          return [{action: 'migrate', vm: 'vm-1', timeslot: 'ts-b', line: 99999}];
        });""");
    assertEquals(List.of(MIGRATE), d.actions());
    assertEquals(List.of(2), d.lines());
  }

  @Test
  void poisonedPrototypesNeitherDropNorForgeActions() {
    var d = decided("""
        try { Array.prototype.push = function () { return 0; }; } catch (e) {}
        try { Object.prototype.toJSON = function () { return {line: 99999}; }; } catch (e) {}
        try { Array.prototype.toJSON = function () { return []; }; } catch (e) {}
        try { Error.prepareStackTrace = function () { return 'at x (policy.js:99999:1)'; }; } catch (e) {}
        try { Error.stackTraceLimit = 0; } catch (e) {}
        try { JSON.stringify = function () { return '{"handled":0,"actions":[],"logs":[]}'; }; } catch (e) {}
        try { String.prototype.split = function () { return ['at x (policy.js:99999:1)']; }; } catch (e) {}
        JSON = {stringify: function () { return '{}'; }, parse: JSON.parse};
        on('timeslot.expiring', function () {
          ferry.migrate('vm-1', 'ts-b');
        });""");
    assertEquals(List.of(MIGRATE), d.actions());
    assertEquals(List.of(10), d.lines());
  }

  @Test
  void thePreludesGlobalsCannotBeReplaced() {
    var d = decided("""
        try { on = function () {}; } catch (e) {}
        try { ferry = {migrate: function () {}}; } catch (e) {}
        try { ferry.migrate = function () {}; } catch (e) {}
        try { delete globalThis.on; } catch (e) {}
        on('timeslot.expiring', function () {
          ferry.migrate('vm-1', 'ts-b');
        });""");
    assertEquals(List.of(MIGRATE), d.actions());
    String redefined = assertInstanceOf(PolicyEngine.Outcome.Failed.class,
        ENGINE.run("policy.js", "function on() {}", "timeslot.expiring", EVENT, VIEW)).reason();
    assertTrue(redefined.contains("on"), redefined);
  }

  @Test
  void codeBuiltFromStringsAtRunTimeIsRefusedSoItCannotNameItselfAfterTheScript() {
    // eval'd code with a sourceURL comment would be reported as "policy.js" at a line of its choice
    String padding = "\\n".repeat(500);
    for (String build : List.of("eval('%s ferry.migrate(\"vm-1\", \"ts-b\"); //# sourceURL=policy.js')",
        "new Function('%s ferry.migrate(\"vm-1\", \"ts-b\");\\n//# sourceURL=policy.js')()",
        "(function () {}).constructor('%s ferry.migrate(\"vm-1\", \"ts-b\");')()")) {
      String script = "on('timeslot.expiring', function () {\n  " + build.formatted(padding) + ";\n});";
      PolicyEngine.Outcome o = ENGINE.run("policy.js", script, "timeslot.expiring", EVENT, VIEW);
      String reason = assertInstanceOf(PolicyEngine.Outcome.Failed.class, o, build + ": " + o).reason();
      assertTrue(reason.contains("dynamic evaluation of code is disabled"), reason);
    }
  }
}
