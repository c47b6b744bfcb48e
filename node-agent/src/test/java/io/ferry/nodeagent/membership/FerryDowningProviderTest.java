package io.ferry.nodeagent.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.ferry.nodeagent.agent.NodeAgent;
import org.apache.pekko.actor.ActorSystem;
import org.junit.jupiter.api.Test;

/** The agent's configuration names Ferry's downing, and a configuration it cannot honour is refused with what to set. */
class FerryDowningProviderTest {

  @Test
  void theAgentsConfigurationUsesFerrysDowningOverTheControlRole() {
    var config = NodeAgent.config(ConfigFactory.empty());
    assertEquals(FerryDowningProvider.class.getName(), config.getString("pekko.cluster.downing-provider-class"));
    assertEquals("keep-majority", config.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    assertEquals(config.getString("ferry.agent.control-role"), config.getString("pekko.cluster.split-brain-resolver.keep-majority.role"));
  }

  @Test
  void anotherStrategyIsRefusedWithWhatToSet() {
    ActorSystem system = ActorSystem.create("downing", ConfigFactory.parseString(
        "pekko.cluster.split-brain-resolver.active-strategy = keep-oldest").withFallback(ConfigFactory.load()));
    try {
      var error = assertThrows(IllegalArgumentException.class, () -> new FerryDowningProvider(system));
      assertTrue(error.getMessage().contains("is keep-oldest") && error.getMessage().contains("set it to keep-majority"), error.getMessage());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  @Test
  void aMissingControlRoleIsRefusedWithWhatToSet() {
    ActorSystem system = ActorSystem.create("downing", ConfigFactory.parseString(
        "pekko.cluster.split-brain-resolver { active-strategy = keep-majority, keep-majority.role = \"\" }").withFallback(ConfigFactory.load()));
    try {
      var error = assertThrows(IllegalArgumentException.class, () -> new FerryDowningProvider(system));
      assertTrue(error.getMessage().contains("keep-majority.role is not set"), error.getMessage());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }
}
