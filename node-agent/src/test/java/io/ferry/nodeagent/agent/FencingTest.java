package io.ferry.nodeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

class FencingTest {
  private static final Address C1 = new Address("pekko", "ferry", "10.0.0.1", 25520);
  private static final Address C2 = new Address("pekko", "ferry", "10.0.0.2", 25520);

  @Test
  void anAgentIsCutOffOnlyWhenEveryControlMemberItKnowsIsUnreachable() {
    assertFalse(Fencing.cutOff(Set.of(), Set.of()), "before it has seen a control member (joining)");
    assertFalse(Fencing.cutOff(Set.of(C1, C2), Set.of(C1)), "one control member still answers");
    assertTrue(Fencing.cutOff(Set.of(C1, C2), Set.of(C1, C2)));
    assertTrue(Fencing.cutOff(Set.of(C1), Set.of(C1, new Address("pekko", "ferry", "10.0.0.9", 1))));
  }

  @Test
  void fenceAfterIsNoLongerThanTheControlPlaneWaitsAfterAFenceOrder() {
    var auto = ConfigFactory.parseString("ferry.agent { split-brain-stable-after = 10s, fence-after = auto }");
    assertEquals(Duration.ofSeconds(4), NodeAgent.fenceAfter(auto));
    var tooLate = ConfigFactory.parseString("ferry.agent { split-brain-stable-after = 10s, fence-after = 12s }");
    var error = assertThrows(IllegalArgumentException.class, () -> NodeAgent.fenceAfter(tooLate));
    assertTrue(error.getMessage().contains("must not exceed"), error.getMessage());
    var longerThanTheWait = ConfigFactory.parseString("ferry.agent { split-brain-stable-after = 10s, fence-after = 5s }");
    assertThrows(IllegalArgumentException.class, () -> NodeAgent.fenceAfter(longerThanTheWait));
    var explicit = ConfigFactory.parseString("ferry.agent { split-brain-stable-after = 10s, fence-after = 2s }");
    assertEquals(Duration.ofSeconds(2), NodeAgent.fenceAfter(explicit));
  }

  /** A member as far as age goes: its up number (lower is older) and whether it is a control member. */
  record Aged(String name, int upNumber, boolean control) {}

  static boolean older(Aged a, Aged b) {
    return a.upNumber() < b.upNumber();
  }

  @Test
  void anAgentRejoinsOnlyOnceItIsOlderThanEveryControlMember() {
    Aged c1 = new Aged("control-1", 1, true), c2 = new Aged("control-2", 2, true), agent = new Aged("agent", 3, false);
    assertFalse(Fencing.olderThanEveryControlMember(agent, java.util.List.of(c1, c2, agent), Aged::control, FencingTest::older),
        "the control plane as it started: its members are the oldest");
    // a rolling restart: control-1 came back (up number 4), control-2 is still the original
    Aged c1again = new Aged("control-1", 4, true);
    assertFalse(Fencing.olderThanEveryControlMember(agent, java.util.List.of(c2, agent, c1again), Aged::control, FencingTest::older),
        "one control member is still older than the agent");
    Aged c2again = new Aged("control-2", 5, true);
    assertTrue(Fencing.olderThanEveryControlMember(agent, java.util.List.of(agent, c1again, c2again), Aged::control, FencingTest::older),
        "every control member restarted: the agent is the oldest, where the Vm regions look for their coordinator");
    assertFalse(Fencing.olderThanEveryControlMember(agent, java.util.List.of(agent), Aged::control, FencingTest::older),
        "no control member at all is the other rule's case (rejoin when the control plane is gone)");
  }
}
