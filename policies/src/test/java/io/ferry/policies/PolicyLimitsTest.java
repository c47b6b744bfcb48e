package io.ferry.policies;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PolicyLimitsTest {
  @Test
  void theLimitsAreTheConfiguredOnesWithReferenceConfDefaults() {
    assertEquals(PolicyEngine.Limits.DEFAULT, PolicyEngine.Limits.of(ConfigFactory.load()));
    assertEquals(new PolicyEngine.Limits(1_000_000, Duration.ofSeconds(2), 64L << 20), PolicyEngine.Limits.of(ConfigFactory.load()));
    var site = ConfigFactory.parseString("ferry.policies { statement-limit = 5000, time-limit = 300ms, allocation-limit = 8MiB }")
        .withFallback(ConfigFactory.load());
    assertEquals(new PolicyEngine.Limits(5000, Duration.ofMillis(300), 8L << 20), PolicyEngine.Limits.of(site));
  }
}
