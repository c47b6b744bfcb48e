package io.ferry.controlplane.entity;

import io.ferry.journal.Tags;
import io.ferry.journal.node.NodeCapacity;
import io.ferry.journal.node.NodeEvent;
import io.ferry.journal.node.NodeEvent.*;
import io.ferry.journal.node.NodeState;
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
 * One host, as its agents report it and as cluster membership sees it. Lifecycle:
 * {@link NodeState#LIFECYCLE}.
 */
public final class Node extends EventSourcedBehaviorWithEnforcedReplies<Node.Command, NodeEvent, NodeState> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Node");

  public sealed interface Command extends EntityCommand<NodeState> {}

  /**
   * An agent joined from this node. Repeating it from the same agent changes nothing; a new agent
   * (a restart) takes the node over from the old one.
   */
  public record RegisterNode(String hostname, NodeCapacity capacity, String agentAddress,
      ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  public record MarkUnreachable(ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  public record MarkReachable(ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  /**
   * The agent {@code agentMember} (a member address, as {@code pekko://ferry@host:port}) of this
   * node was lost. Changes nothing if another agent has registered since: a new job's agent on the
   * same node must not be recorded lost for its predecessor.
   */
  public record MarkLost(String agentMember, String reason, ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  public record MarkLeft(ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  public record MarkFenced(int vmsKilled, ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  public record GetNode(ActorRef<StatusReply<NodeState>> replyTo) implements Command {}

  public static void init(ActorSystem<?> system, String role, Clock clock) {
    ClusterSharding.get(system).init(
        Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), clock)).withRole(role));
  }

  public static Behavior<Command> create(String nodeId, Clock clock) {
    return new Node(nodeId, clock);
  }

  private final String nodeId;
  private final Clock clock;

  private Node(String nodeId, Clock clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), nodeId), PersistFailures.restartWithBackoff());
    this.nodeId = nodeId;
    this.clock = clock;
  }

  @Override
  public NodeState emptyState() {
    return NodeState.Empty.of(nodeId);
  }

  @Override
  public CommandHandlerWithReply<Command, NodeEvent, NodeState> commandHandler() {
    return new StageHandlers<Command, NodeEvent, NodeState>(
            newCommandHandlerWithReplyBuilder(), Effect(), NodeState.LIFECYCLE, s -> "node " + nodeId, "node")
        .on(RegisterNode.class, NodeJoined.class, (s, c) -> s instanceof NodeState.Joined
                && c.agentAddress().equals(s.facts().agentAddress())
            ? Decision.unchanged()
            : Decision.persist(new NodeJoined(nodeId, c.hostname(), c.capacity(), c.agentAddress(), clock.instant())))
        .on(MarkUnreachable.class, NodeUnreachable.class, (s, c) -> Decision.persist(new NodeUnreachable(nodeId, clock.instant())))
        .on(MarkReachable.class, NodeReachable.class, (s, c) -> Decision.persist(new NodeReachable(nodeId, clock.instant())))
        .on(MarkLost.class, NodeLost.class, (s, c) -> registeredBy(s, c.agentMember())
            ? Decision.persist(new NodeLost(nodeId, c.reason(), clock.instant())) : Decision.unchanged())
        .on(MarkLeft.class, NodeLeft.class, (s, c) -> Decision.persist(new NodeLeft(nodeId, clock.instant())))
        .on(MarkFenced.class, NodeFenced.class, (s, c) -> Decision.persist(new NodeFenced(nodeId, c.vmsKilled(), clock.instant())))
        .readOnly(GetNode.class)
        .build();
  }

  /** Whether the node's registered agent lives on {@code member}; true if none is registered. */
  static boolean registeredBy(NodeState state, String member) {
    org.apache.pekko.actor.Address agent = state.facts().agentMember();
    return agent == null || member == null || agent.toString().equals(member);
  }

  @Override
  public EventHandler<NodeState, NodeEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(NodeState.LIFECYCLE::apply);
  }

  @Override
  public Set<String> tagsFor(NodeEvent event) {
    return Set.of(Tags.NODE);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
