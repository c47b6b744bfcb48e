package io.ferry.journal.policy;

import io.ferry.journal.FerrySerializable;
import java.time.Instant;

/** What happened to a policy script, as journaled: every version is kept. */
public sealed interface PolicyEvent extends FerrySerializable {
  String policyId();

  Instant at();

  /**
   * A version of the policy was applied (the first, or a new one replacing the last).
   *
   * @param scope "user" (acts on its owner's VMs and timeslot requests) or "site" (an admin's)
   */
  record PolicyApplied(String policyId, String owner, String name, int version, String source, String scope, String appliedBy,
      Instant at) implements PolicyEvent {}

  /** The policy was deleted; its versions stay in the journal. */
  record PolicyDeleted(String policyId, String deletedBy, Instant at) implements PolicyEvent {}

  /**
   * The policy decided on an event: which version, what triggered it, a summary of the view it saw,
   * and each action it asked for with what became of it ("started", "refused: why", "failed: why").
   */
  record PolicyDecided(String policyId, int version, String trigger, String view, java.util.List<String> actions,
      java.util.List<String> outcomes, Instant at) implements PolicyEvent {}

  /** The policy failed on an event (threw, ran past a limit, returned nonsense): the built-in policy decided instead. */
  record PolicyFailed(String policyId, int version, String trigger, String reason, Instant at) implements PolicyEvent {}
}
