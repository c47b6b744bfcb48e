package io.ferry.journal.policy;

import io.ferry.journal.FerrySerializable;
import io.ferry.journal.Lifecycle;
import io.ferry.journal.policy.PolicyEvent.PolicyApplied;
import io.ferry.journal.policy.PolicyEvent.PolicyDeleted;

/** A policy's state: {@code Empty → Active (version n) → Deleted}, and Active again when re-applied. */
public sealed interface PolicyState extends FerrySerializable {
  PolicyFacts facts();

  default String stage() {
    return Lifecycle.stage(this);
  }

  /** The current version; {@code version} is 0 and the rest {@code null} before the first. */
  record PolicyFacts(String policyId, String owner, String name, int version, String source, String scope)
      implements FerrySerializable {}

  record Empty(PolicyFacts facts) implements PolicyState {
    public static Empty of(String id) {
      return new Empty(new PolicyFacts(id, null, null, 0, null, null));
    }
  }

  record Active(PolicyFacts facts) implements PolicyState {}

  record Deleted(PolicyFacts facts) implements PolicyState {}

  Lifecycle<PolicyState, PolicyEvent> LIFECYCLE = Lifecycle.<PolicyState, PolicyEvent>builder("policy")
      .on(PolicyApplied.class,
          (s, e) -> new Active(new PolicyFacts(e.policyId(), e.owner(), e.name(), e.version(), e.source(), e.scope())),
          Empty.class, Active.class, Deleted.class)
      .on(PolicyDeleted.class, (s, e) -> new Deleted(s.facts()), Active.class)
      .on(PolicyEvent.PolicyDecided.class, (s, e) -> s, Active.class)
      .on(PolicyEvent.PolicyFailed.class, (s, e) -> s, Active.class)
      .build();
}
