package io.ferry.journal.node;

import io.ferry.journal.FerrySerializable;
import io.ferry.journal.Lifecycle;
import io.ferry.journal.node.NodeEvent.*;

/**
 * A node's state: {@code Joined → Unreachable → Lost | Left}, {@code Fenced} when its agent was
 * downed and killed its own VMs. A node that was lost, left or fenced may join again (a new job),
 * and a restarted agent joins again over its own earlier incarnation (it re-attaches to its VMs).
 */
public sealed interface NodeState extends FerrySerializable {
  NodeFacts facts();

  default String stage() {
    return Lifecycle.stage(this);
  }

  /** What every stage knows; all but the id are {@code null} before the first join. */
  record NodeFacts(String nodeId, String hostname, NodeCapacity capacity, String agentAddress)
      implements FerrySerializable {
    /** The cluster member the registered agent (an actor path) lives on, or {@code null} if none or unreadable. */
    public org.apache.pekko.actor.Address agentMember() {
      if (agentAddress == null || !agentAddress.contains("://")) return null;
      int path = agentAddress.indexOf('/', agentAddress.indexOf("://") + 3);
      try {
        return org.apache.pekko.actor.AddressFromURIString.parse(path < 0 ? agentAddress : agentAddress.substring(0, path));
      } catch (RuntimeException e) { // Scala throws MalformedURLException unchecked
        return null;
      }
    }
  }

  record Empty(NodeFacts facts) implements NodeState {
    public static Empty of(String id) {
      return new Empty(new NodeFacts(id, null, null, null));
    }
  }

  record Joined(NodeFacts facts) implements NodeState {}

  record Unreachable(NodeFacts facts) implements NodeState {}

  record Lost(NodeFacts facts, String reason) implements NodeState {}

  record Left(NodeFacts facts) implements NodeState {}

  record Fenced(NodeFacts facts) implements NodeState {}

  Lifecycle<NodeState, NodeEvent> LIFECYCLE = Lifecycle.<NodeState, NodeEvent>builder("node")
      .on(NodeJoined.class,
          (s, e) -> new Joined(new NodeFacts(e.nodeId(), e.hostname(), e.capacity(), e.agentAddress())),
          Empty.class, Joined.class, Unreachable.class, Lost.class, Left.class, Fenced.class)
      .on(NodeUnreachable.class, (s, e) -> new Unreachable(s.facts()), Joined.class)
      .on(NodeReachable.class, (s, e) -> new Joined(s.facts()), Unreachable.class)
      .on(NodeLost.class, (s, e) -> new Lost(s.facts(), e.reason()), Joined.class, Unreachable.class)
      .on(NodeLeft.class, (s, e) -> new Left(s.facts()), Joined.class, Unreachable.class)
      .on(NodeFenced.class, (s, e) -> new Fenced(s.facts()), Joined.class, Unreachable.class, Lost.class)
      .build();
}
