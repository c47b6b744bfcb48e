package io.ferry.controlplane.entity;

import io.ferry.journal.Tags;
import io.ferry.journal.policy.PolicyEvent;
import io.ferry.journal.policy.PolicyEvent.PolicyApplied;
import io.ferry.journal.policy.PolicyEvent.PolicyDeleted;
import io.ferry.journal.policy.PolicyState;
import java.time.Clock;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One policy script, id {@code owner/name}, with every version it ever had in its journal:
 * applying it again makes a new version; deleting it keeps the versions. The script is checked
 * (syntax, sandbox) by whoever applies it, before this entity records it. Lifecycle:
 * {@link PolicyState#LIFECYCLE}.
 */
public final class Policy extends EventSourcedBehaviorWithEnforcedReplies<Policy.Command, PolicyEvent, PolicyState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Policy");

  public sealed interface Command extends EntityCommand<PolicyState> {}

  /** Record {@code source} as the policy's next version. */
  public record ApplyPolicy(String owner, String name, String source, String scope, String by,
      ActorRef<StatusReply<PolicyState>> replyTo) implements Command {}

  public record DeletePolicy(String by, ActorRef<StatusReply<PolicyState>> replyTo) implements Command {}

  public record GetPolicy(ActorRef<StatusReply<PolicyState>> replyTo) implements Command {}

  /** Record what the policy decided on an event and what became of each action. */
  public record RecordDecision(int version, String trigger, String view, java.util.List<String> actions,
      java.util.List<String> outcomes, ActorRef<StatusReply<PolicyState>> replyTo) implements Command {}

  /** Record that the policy failed on an event. */
  public record RecordFailure(int version, String trigger, String reason, ActorRef<StatusReply<PolicyState>> replyTo)
      implements Command {}

  /** A policy's id: its owner and name. */
  public static String id(String owner, String name) {
    return owner + "/" + name;
  }

  public static void init(ActorSystem<?> system, String role, Clock clock) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), clock)).withRole(role));
  }

  public static Behavior<Command> create(String policyId, Clock clock) {
    return new Policy(policyId, clock);
  }

  private final String policyId;
  private final Clock clock;

  private Policy(String policyId, Clock clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), policyId), PersistFailures.restartWithBackoff());
    this.policyId = policyId;
    this.clock = clock;
  }

  @Override
  public PolicyState emptyState() {
    return PolicyState.Empty.of(policyId);
  }

  @Override
  public CommandHandlerWithReply<Command, PolicyEvent, PolicyState> commandHandler() {
    return new StageHandlers<Command, PolicyEvent, PolicyState>(
            newCommandHandlerWithReplyBuilder(), Effect(), PolicyState.LIFECYCLE, s -> "policy " + policyId, "policy")
        .on(ApplyPolicy.class, PolicyApplied.class, (s, c) -> s instanceof PolicyState.Active && c.source().equals(s.facts().source())
                && c.scope().equals(s.facts().scope())
            ? Decision.unchanged() // the same script again is not a new version
            : Decision.persist(new PolicyApplied(policyId, c.owner(), c.name(), s.facts().version() + 1, c.source(), c.scope(), c.by(),
                clock.instant())))
        .on(DeletePolicy.class, PolicyDeleted.class, (s, c) -> Decision.persist(new PolicyDeleted(policyId, c.by(), clock.instant())))
        .on(RecordDecision.class, PolicyEvent.PolicyDecided.class, (s, c) -> Decision.persist(new PolicyEvent.PolicyDecided(policyId,
            c.version(), c.trigger(), c.view(), c.actions(), c.outcomes(), clock.instant())))
        .on(RecordFailure.class, PolicyEvent.PolicyFailed.class, (s, c) -> Decision.persist(new PolicyEvent.PolicyFailed(policyId,
            c.version(), c.trigger(), c.reason(), clock.instant())))
        .readOnly(GetPolicy.class)
        .build();
  }

  @Override
  public EventHandler<PolicyState, PolicyEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(PolicyState.LIFECYCLE::apply);
  }

  @Override
  public Set<String> tagsFor(PolicyEvent event) {
    return Set.of(Tags.POLICY);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
