package io.ferry.journal.agent;

import io.ferry.journal.FerrySerializable;
import io.ferry.journal.vm.VmSpec;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What the control plane (and other agents) ask of a node agent. Every command is idempotent: it
 * may be sent again after a control member recovers, and the agent then reports the outcome again
 * instead of doing the work twice. Commands carry {@link #PROTOCOL_VERSION} so an agent of another
 * version can refuse clearly instead of misreading.
 *
 * <p>Every command that begins a side effect carries the {@code attempt} that the VM's entity
 * journaled for it ({@link io.ferry.journal.vm.VmFacts#attempt()}); the agent echoes it in each
 * report, so the entity can ignore reports of attempts it no longer waits for. A command that
 * arrives while the agent is busy with the VM is queued and handled when that work ends.
 */
public sealed interface AgentCommand extends FerrySerializable {
  /** The version of this protocol; raise it when a command's meaning changes. */
  int PROTOCOL_VERSION = 4;

  /** The receptionist key under which the agent of {@code nodeId} registers. */
  static ServiceKey<AgentCommand> serviceKey(String nodeId) {
    return ServiceKey.create(AgentCommand.class, "ferry-agent-" + nodeId);
  }

  int version();

  String vmId();

  /**
   * Boot the VM on this node, in the job of {@code timeslotId} (the VM's placement): an agent of
   * another timeslot on the node — a later job, maybe another user's — refuses. Answered with
   * {@link AgentReport.Started} or {@link AgentReport.StartFailed}.
   */
  record StartVm(int version, String vmId, String attempt, VmSpec spec, String timeslotId, ActorRef<AgentReport> replyTo)
      implements AgentCommand {}

  /**
   * Migrate the VM running here to the agent of {@code targetNodeId}. Progress goes to
   * {@code progressTo} (may be {@code null}); the outcome is {@link AgentReport.Migrated} or
   * {@link AgentReport.MigrationFailed}.
   */
  record MigrateVm(int version, String vmId, String attempt, VmSpec spec, String targetNodeId, String targetTimeslotId,
      MigrationSettings settings, ActorRef<MigrationProgress> progressTo, ActorRef<AgentReport> replyTo) implements AgentCommand {}

  /** Save the VM to {@code file} on shared storage and stop it. */
  record SuspendVm(int version, String vmId, String attempt, String file, ActorRef<AgentReport> replyTo) implements AgentCommand {}

  /** Restore the VM on this node from {@code file}, in the job of {@code timeslotId} (as {@link StartVm}). */
  record ResumeVm(int version, String vmId, String attempt, VmSpec spec, String file, String timeslotId,
      ActorRef<AgentReport> replyTo) implements AgentCommand {}

  /**
   * The VM's entity (re)started on this agent's member: confirm that this node runs the VM's QEMU.
   * Answered with {@link AgentReport.Attached} or {@link AgentReport.NotRunning}.
   */
  record AttachVm(int version, String vmId, ActorRef<AgentReport> replyTo) implements AgentCommand {}

  /** Stop the VM for good; a migration of it in flight is cancelled first. */
  record StopVm(int version, String vmId, String attempt, ActorRef<AgentReport> replyTo) implements AgentCommand {}

  /**
   * (agent to agent) Start a QEMU waiting for the VM's migration, in the job of {@code timeslotId}
   * (the migration's target placement): an agent of another timeslot on the node refuses, as it
   * does a start.
   */
  record PrepareIncoming(int version, String vmId, String attempt, VmSpec spec, String timeslotId, MigrationSettings settings,
      ActorRef<IncomingReply> replyTo) implements AgentCommand {}

  /** (agent to agent) The migration finished: make sure the target runs the guest. */
  record ConfirmIncoming(int version, String vmId, String attempt, ActorRef<IncomingReply> replyTo) implements AgentCommand {}

  /** (agent to agent) The migration failed: stop the waiting target. */
  record AbortIncoming(int version, String vmId, String attempt) implements AgentCommand {}
}
