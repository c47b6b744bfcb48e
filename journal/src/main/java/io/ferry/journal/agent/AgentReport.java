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

  /** A report of the outcome of one attempt ({@link AgentCommand}'s {@code attempt}, echoed). */
  sealed interface Outcome extends AgentReport {
    String vmId();

    String attempt();
  }

  /** The agent began starting the VM. */
  record Starting(String vmId, String attempt, String nodeId) implements Outcome {}

  /** The VM runs on {@code nodeId}. */
  record Started(String vmId, String attempt, String nodeId) implements Outcome {}

  record StartFailed(String vmId, String attempt, String reason) implements Outcome {}

  record Migrated(String vmId, String attempt, String targetNodeId, MigrationStats stats) implements Outcome {}

  /**
   * The migration was given up. Normally the source runs on; with {@code guestLost} it cannot
   * (post-copy had begun: the guest's memory was split between source and target), so the VM
   * has failed.
   */
  record MigrationFailed(String vmId, String attempt, String reason, boolean guestLost) implements Outcome {}

  record Suspended(String vmId, String attempt, String file, long bytes) implements Outcome {}

  record SuspendFailed(String vmId, String attempt, String reason) implements Outcome {}

  record Resumed(String vmId, String attempt, String nodeId) implements Outcome {}

  record ResumeFailed(String vmId, String attempt, String reason) implements Outcome {}

  record Stopped(String vmId, String attempt) implements Outcome {}

  record StopFailed(String vmId, String attempt, String reason) implements Outcome {}

  /**
   * The VM's QEMU on {@code nodeId} exited without being asked to (it crashed, was killed, or the
   * guest powered off): sent unasked, as soon as the agent sees the process end. {@code reason}
   * holds how it ended and QEMU's last words.
   */
  record Exited(String vmId, String nodeId, String reason) implements AgentReport {}

  /** This node runs the VM: its QEMU is process {@code pid} and answers. */
  record Attached(String vmId, String nodeId, long pid) implements AgentReport {}

  /** This node does not run the VM (any more): {@code reason} says what the agent found. */
  record NotRunning(String vmId, String nodeId, String reason) implements AgentReport {}

}
