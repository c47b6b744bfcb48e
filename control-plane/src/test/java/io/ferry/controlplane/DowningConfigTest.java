package io.ferry.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.ferry.nodeagent.membership.FerryDowningProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A control member downs with Ferry's strategy over its own role, as its agents do. */
class DowningConfigTest {
  @Test
  void aControlMemberUsesFerrysDowningOverTheControlRole() {
    var config = ControlPlane.config(ControlPlane.overrides("127.0.0.1", 0, List.of()).withFallback(ConfigFactory.empty()));
    assertEquals(FerryDowningProvider.class.getName(), config.getString("pekko.cluster.downing-provider-class"));
    assertEquals("keep-majority", config.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    assertEquals(config.getString("ferry.control.role"), config.getString("pekko.cluster.split-brain-resolver.keep-majority.role"));
  }
}
