package io.ferry.controlplane;

import com.typesafe.config.Config;
import io.ferry.policies.PolicyEngine;

/**
 * The one set of limits every policy run is held to, from {@code ferry.policies}: the keeper's
 * runs, the check when a policy is applied ({@code PUT /v1/policies}) and {@code ferry policy
 * test} all read them here, so that a script accepted at apply time is judged by the limits it
 * will run under.
 */
public final class PolicyLimits {
  private PolicyLimits() {}

  public static PolicyEngine.Limits of(Config config) {
    Config p = config.getConfig("ferry.policies");
    return new PolicyEngine.Limits(p.getLong("statement-limit"), p.getDuration("time-limit"), p.getBytes("allocation-limit"));
  }
}
