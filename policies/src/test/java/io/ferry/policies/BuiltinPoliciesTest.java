package io.ferry.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import org.junit.jupiter.api.Test;

class BuiltinPoliciesTest {
  static final PolicyEngine ENGINE = new PolicyEngine(PolicyEngine.Limits.DEFAULT);

  @org.junit.jupiter.api.AfterAll
  static void close() {
    ENGINE.close();
  }

  static PolicyEngine.Outcome.Decided run(String policy, String type, String event) {
    var o = ENGINE.run(policy + ".js", BuiltinPolicies.source(policy), type, event, PolicyEngineTest.VIEW);
    return assertInstanceOf(PolicyEngine.Outcome.Decided.class, o, o.toString());
  }

  @Test
  void everyBuiltInPolicyCompiles() {
    for (String name : BuiltinPolicies.NAMES) ENGINE.check(name + ".js", BuiltinPolicies.source(name));
  }

  @Test
  void theDefaultEvacuationMovesToTheTimeslotWithTheMostTimeLeft() {
    var d = run("evacuate", "timeslot.expiring", PolicyEngineTest.EVENT);
    assertEquals(List.of(new PolicyAction.Migrate("vm-1", "ts-b")), d.actions());
  }

  @Test
  void keepPoolAsksForTheMissingTimeslots() {
    // ts-a expires; ts-b and ts-c are active: the pool of 2 is full
    assertEquals(List.of(), run("keep-pool", "timeslot.expiring", PolicyEngineTest.EVENT).actions());
    // ts-b ends: only ts-c (and the expiring ts-a, which does not count) are left
    var d = run("keep-pool", "timeslot.ended", "{\"timeslot\": \"ts-b\"}");
    assertEquals(List.of(new PolicyAction.RequestTimeslot(2, 2048, 3600, "")), d.actions());
  }
}
