package io.ferry.journal.node;

import io.ferry.journal.FerrySerializable;
import java.time.Instant;

/** What happened to a node (a host seen by Ferry's agents), as journaled. */
public sealed interface NodeEvent extends FerrySerializable {
  String nodeId();

  Instant at();

  /** An agent joined from the node ({@code agentAddress} is its cluster address). */
  record NodeJoined(String nodeId, String hostname, NodeCapacity capacity, String agentAddress, Instant at)
      implements NodeEvent {}

  /** The failure detector lost sight of the node's agent. */
  record NodeUnreachable(String nodeId, Instant at) implements NodeEvent {}

  /** The agent is reachable again. */
  record NodeReachable(String nodeId, Instant at) implements NodeEvent {}

  /** The agent was downed or died: whatever ran there is gone. */
  record NodeLost(String nodeId, String reason, Instant at) implements NodeEvent {}

  /** The agent left the cluster in an orderly way (its job ended). */
  record NodeLeft(String nodeId, Instant at) implements NodeEvent {}

  /** The agent learnt it was downed and killed its VMs itself. */
  record NodeFenced(String nodeId, int vmsKilled, Instant at) implements NodeEvent {}
}
