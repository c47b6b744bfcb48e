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
}
