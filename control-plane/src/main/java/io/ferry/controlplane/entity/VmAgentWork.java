package io.ferry.controlplane.entity;

import io.ferry.controlplane.agents.AgentLink;
import io.ferry.controlplane.entity.Vm.Command;
import io.ferry.controlplane.entity.Vm.ReportFailed;
import io.ferry.controlplane.entity.Vm.ReportMigrationFailed;
import io.ferry.controlplane.entity.Vm.ReportResumeFailed;
import io.ferry.controlplane.entity.Vm.ReportSuspendFailed;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;

/**
 * The agent-side work each stage of a {@link Vm} waits for, sent after every persisted step and
 * again after a recovery, each command carrying the stage's attempt. Agents treat every command as
 * idempotent, so sending one twice is harmless; an agent that cannot be reached is reported to the
 * entity as the stage's failure, like any other outcome.
 */
final class VmAgentWork {
  private VmAgentWork() {}

  static void drive(VmState state, AgentLink agents, ActorRef<MigrationProgress> progressTo, ActorRef<Command> self,
      ActorRef<StatusReply<VmState>> ignore) {
    drive(state, agents, progressTo, self, ignore, null);
  }

  /**
   * @param log {@code null}: an agent that cannot be reached is the stage's failure (a first
   *            send); otherwise it is only logged there (a re-drive: the work may be going on at
   *            an agent that is just out of reach, and failing it then would make the record lie)
   */
  private static void drive(VmState state, AgentLink agents, ActorRef<MigrationProgress> progressTo, ActorRef<Command> self,
      ActorRef<StatusReply<VmState>> ignore, Logger log) {
    ActorRef<AgentReport> reports = agents.reportsTo();
    int v = AgentCommand.PROTOCOL_VERSION;
    String vmId = state.vmId();
    VmSpec spec = state.facts().spec();
    Placement at = state.facts().placement();
    String attempt = state.facts().attempt();
    if (state instanceof VmState.Placed || state instanceof VmState.Starting) {
      agents.send(at.nodeId(), new AgentCommand.StartVm(v, vmId, attempt, spec, at.timeslotId(), reports),
          why -> failed(log, state, why,
              () -> self.tell(new ReportFailed(attempt, "cannot start on node " + at.nodeId() + ": " + why, ignore))));
    } else if (state instanceof VmState.Migrating m) {
      agents.send(at.nodeId(), new AgentCommand.MigrateVm(v, vmId, attempt, spec, m.target().nodeId(), m.target().timeslotId(),
          m.settings(), progressTo, reports),
          why -> failed(log, state, why,
              () -> self.tell(new ReportMigrationFailed(attempt, "cannot reach the source: " + why, false, ignore))));
    } else if (state instanceof VmState.Suspending s) {
      agents.send(at.nodeId(), new AgentCommand.SuspendVm(v, vmId, attempt, s.imagePath(), reports),
          why -> failed(log, state, why, () -> self.tell(new ReportSuspendFailed(attempt, why, ignore))));
    } else if (state instanceof VmState.Resuming) {
      agents.send(at.nodeId(), new AgentCommand.ResumeVm(v, vmId, attempt, spec, state.facts().lastImage(), at.timeslotId(), reports),
          why -> failed(log, state, why, () -> self.tell(new ReportResumeFailed(attempt, why, ignore))));
    } else if (state instanceof VmState.Stopping) {
      agents.send(at.nodeId(), new AgentCommand.StopVm(v, vmId, attempt, reports),
          why -> failed(log, state, why,
              () -> self.tell(new ReportFailed(attempt, "cannot stop it on node " + at.nodeId() + ": " + why, ignore))));
    }
  }

  private static void failed(Logger log, VmState state, String why, Runnable fail) {
    if (log == null) fail.run();
    else log.warn("VM {}: re-driving {} (attempt {}): {}; trying again later", state.vmId(), state.stage(),
        state.facts().attempt(), why);
  }

  /** Whether the stage waits for an agent's work (the stages {@link #drive} sends a command for). */
  static boolean inFlight(VmState state) {
    return state instanceof VmState.Placed || state instanceof VmState.Starting || state instanceof VmState.Migrating
        || state instanceof VmState.Suspending || state instanceof VmState.Resuming || state instanceof VmState.Stopping;
  }

  /**
   * The level-triggered re-drive: while a VM's stage is in flight, its entity sends the stage's
   * command again every {@code ferry.control.redrive-interval}, with the same attempt. A command
   * or report lost on the way (an agent that restarted, a report that met the entity while its
   * shard moved, a journal write that failed after the agent acted) is so made good by the agent's
   * answer from what it knows: commands are idempotent per attempt, and a command for a VM the
   * agent is busy with waits behind the work. Vm entities are remembered, and sharding never
   * passivates remembered entities by itself, so the timer lives as long as the stage.
   */
  static final class Redrives {
    private static final String KEY = "redrive";
    private final TimerScheduler<Command> timers;
    private final java.time.Duration interval;
    private final ActorRef<StatusReply<VmState>> ignore;

    Redrives(TimerScheduler<Command> timers, com.typesafe.config.Config config, ActorRef<StatusReply<VmState>> ignore) {
      this.timers = timers;
      // agents host Vm entities too: they run with the control plane's reference.conf on their class path
      this.interval = config.getDuration("ferry.control.redrive-interval");
      this.ignore = ignore;
    }

    /** Starts the timer on entering a stage in flight (from now), stops it on leaving one. */
    void follow(VmState state) {
      if (inFlight(state)) timers.startTimerWithFixedDelay(KEY, new Vm.Redrive(ignore), interval);
      else timers.cancel(KEY);
    }

    void fire(VmState state, AgentLink agents, ActorRef<Command> self, Logger log) {
      if (!inFlight(state)) {
        timers.cancel(KEY);
        return;
      }
      log.info("VM {}: still {} in attempt {} after {} ms: sending its command to node {} again", state.vmId(), state.stage(),
          state.facts().attempt(), interval.toMillis(), state.facts().placement().nodeId());
      drive(state, agents, null, self, ignore, log);
    }
  }

  /**
   * After a recovery (a restart, or a move to the agent member of its node), a running VM's entity
   * asks the node's agent whether it runs the VM's QEMU; if not, the VM is reported lost.
   */
  static void attach(VmState state, AgentLink agents, Logger log) {
    if (!(state instanceof VmState.Running)) return;
    String node = state.facts().placement().nodeId();
    agents.send(node, new AgentCommand.AttachVm(AgentCommand.PROTOCOL_VERSION, state.vmId(), agents.reportsTo()),
        why -> log.warn("VM {}: cannot reach the agent of node {} to attach: {}", state.vmId(), node, why));
  }

  /**
   * A migration that ended without moving the VM (failed, cancelled, or the VM was lost or stopped
   * meanwhile) tells its target's agent to drop the QEMU it may have waiting for the guest. The
   * source agent does so too when it can; this covers a source agent that died (found by the
   * fault campaign: the waiting QEMU was left for good). Attempt-scoped and idempotent.
   */
  static void abortUnusedTarget(VmState before, VmState after, AgentLink agents, Logger log) {
    if (!(before instanceof VmState.Migrating m) || after instanceof VmState.Migrating) return;
    Placement now = after.facts().placement();
    if (after instanceof VmState.Running && now != null && now.nodeId().equals(m.target().nodeId())) return; // it moved there
    String target = m.target().nodeId();
    agents.send(target, new AgentCommand.AbortIncoming(AgentCommand.PROTOCOL_VERSION, before.vmId(), before.facts().attempt()),
        why -> log.info("VM {}: cannot tell node {} to drop its waiting QEMU: {}", before.vmId(), target, why));
  }
}
