package io.ferry.journal.agent;

import io.ferry.journal.FerrySerializable;
import io.ferry.journal.node.NodeCapacity;
import io.ferry.journal.vm.MigrationStats;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What node agents tell the control plane's agent gateway: outcomes of {@link AgentCommand}s,
 * and their own registration. The gateway turns each into a command of the entity concerned.
 */
public sealed interface AgentReport extends FerrySerializable {
  /** The receptionist key of the control members' agent gateways. */
  ServiceKey<AgentReport> GATEWAY_KEY = ServiceKey.create(AgentReport.class, "ferry-agent-gateway");

  /**
   * An agent (re)joined from {@code nodeId}; answered with {@link Registered}. An agent started
   * inside a batch job names its {@code timeslotId} and {@code jobId} (both null otherwise).
   */
  record RegisterAgent(int version, String nodeId, String hostname, NodeCapacity capacity,
      ActorRef<AgentCommand> agent, ActorRef<Registered> replyTo, String timeslotId, String jobId) implements AgentReport {}

  /** The batch system's early-warning signal reached the agent of this timeslot: its end is near. */
  record TimeslotWarning(String timeslotId, String nodeId) implements AgentReport {}

  /** The gateway's answer to {@link RegisterAgent}. */
  record Registered(String nodeId, boolean accepted, String reason) implements FerrySerializable {}

  /** The agent began starting the VM. */
  record Starting(String vmId, String nodeId) implements AgentReport {}

  /** The VM runs on {@code nodeId}. */
  record Started(String vmId, String nodeId) implements AgentReport {}

  record StartFailed(String vmId, String reason) implements AgentReport {}

  record Migrated(String vmId, String targetNodeId, MigrationStats stats) implements AgentReport {}

  record MigrationFailed(String vmId, String reason) implements AgentReport {}

  record Suspended(String vmId, String file, long bytes) implements AgentReport {}

  record SuspendFailed(String vmId, String reason) implements AgentReport {}

  record Resumed(String vmId, String nodeId) implements AgentReport {}

  record ResumeFailed(String vmId, String reason) implements AgentReport {}

  record Stopped(String vmId) implements AgentReport {}

  /** This node runs the VM: its QEMU is process {@code pid} and answers. */
  record Attached(String vmId, String nodeId, long pid) implements AgentReport {}

  /** This node does not run the VM (any more): {@code reason} says what the agent found. */
  record NotRunning(String vmId, String nodeId, String reason) implements AgentReport {}

  record StopFailed(String vmId, String reason) implements AgentReport {}
}
