package io.ferry.controlplane.agents;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.agent.AgentReport.*;
import io.ferry.journal.vm.VmState;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where node agents report, one per control member, registered with the receptionist under
 * {@link AgentReport#GATEWAY_KEY}. Each report becomes a command of the entity it concerns, so
 * the entity's lifecycle decides whether it still applies (a late or repeated report that no
 * longer fits the VM's stage is rejected there and logged here).
 */
public final class AgentGateway {
  private static final Logger log = LoggerFactory.getLogger(AgentGateway.class);

  private AgentGateway() {}

  /** A gateway that agents find through the receptionist (on control members). */
  public static Behavior<AgentReport> create() {
    return create(true);
  }

  /** @param register whether agents may find it (for registering); agent members keep theirs private */
  public static Behavior<AgentReport> create(boolean register) {
    return Behaviors.setup(context -> {
      if (register) context.getSystem().receptionist().tell(Receptionist.register(AgentReport.GATEWAY_KEY, context.getSelf()));
      Entities entities = Entities.of(context.getSystem());
      ActorRefResolver resolver = ActorRefResolver.get(context.getSystem());
      return Behaviors.receive(AgentReport.class)
          .onMessage(RegisterAgent.class, r -> register(entities, resolver, r))
          .onMessage(Starting.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportStarting(r.attempt(), ref)))
          .onMessage(Started.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportStarted(r.attempt(), ref)))
          .onMessage(StartFailed.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportFailed(r.attempt(), r.reason(), ref)))
          .onMessage(Migrated.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportMigrated(r.attempt(), r.stats(), ref)))
          .onMessage(MigrationFailed.class, r -> toVm(entities, r.vmId(),
              ref -> new Vm.ReportMigrationFailed(r.attempt(), r.reason(), r.guestLost(), ref)))
          .onMessage(Suspended.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportSuspended(r.attempt(), r.bytes(), ref)))
          .onMessage(SuspendFailed.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportSuspendFailed(r.attempt(), r.reason(), ref)))
          .onMessage(Resumed.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportResumed(r.attempt(), ref)))
          .onMessage(ResumeFailed.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportResumeFailed(r.attempt(), r.reason(), ref)))
          .onMessage(AgentReport.Stopped.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportStopped(r.attempt(), ref)))
          .onMessage(StopFailed.class, r -> toVm(entities, r.vmId(), ref -> new Vm.ReportFailed(r.attempt(), r.reason(), ref)))
          .onMessage(Exited.class, r -> {
            log.warn("VM {}: its QEMU on node {} ended: {}", r.vmId(), r.nodeId(), r.reason());
            return toVm(entities, r.vmId(), ref -> new Vm.ReportExited(r.nodeId(), r.reason(), ref));
          })
          .onMessage(AgentReport.Attached.class, r -> {
            log.info("VM {}: entity attached to its QEMU (pid {}) on node {}", r.vmId(), r.pid(), r.nodeId());
            return Behaviors.same();
          })
          .onMessage(AgentReport.NotRunning.class, r -> {
            log.warn("VM {}: node {} does not run it: {}", r.vmId(), r.nodeId(), r.reason());
            return toVm(entities, r.vmId(), ref -> new Vm.ReportLost(r.nodeId(), "the agent of node " + r.nodeId()
                + " found no QEMU of it on re-attaching: " + r.reason(), ref));
          })
          .onMessage(TimeslotWarning.class, r -> {
            entities.timeslot(r.timeslotId(), ref -> new io.ferry.controlplane.entity.Timeslot.MarkExpiring(
                "the batch system's warning signal reached the agent of node " + r.nodeId(), ref))
                .whenComplete((s, e) -> {
                  if (e != null) log.info("warning for timeslot {} not applied: {}", r.timeslotId(), e.getMessage());
                });
            return Behaviors.same();
          })
          .build();
    });
  }

  private static Behavior<AgentReport> register(Entities entities, ActorRefResolver resolver, RegisterAgent r) {
    if (r.version() != AgentCommand.PROTOCOL_VERSION) {
      r.replyTo().tell(new Registered(r.nodeId(), false, "agent protocol version " + r.version()
          + " is not understood; this control plane speaks version " + AgentCommand.PROTOCOL_VERSION));
      return Behaviors.same();
    }
    entities.node(r.nodeId(), ref -> new Node.RegisterNode(r.hostname(), r.capacity(), resolver.toSerializationFormat(r.agent()), ref))
        .whenComplete((state, error) -> {
          if (error == null) {
            log.info("node {}: registered its agent {} (timeslot {})", r.nodeId(), r.agent().path(), r.timeslotId());
            r.replyTo().tell(new Registered(r.nodeId(), true, ""));
          } else {
            log.warn("node {}: the registration of agent {} failed: {}", r.nodeId(), r.agent().path(), error.getMessage());
            r.replyTo().tell(new Registered(r.nodeId(), false, error.getMessage()));
          }
        });
    return Behaviors.same();
  }

  private static Behavior<AgentReport> toVm(Entities entities, String vmId,
      Function<ActorRef<StatusReply<VmState>>, Vm.Command> command) {
    CompletionStage<VmState> done = entities.vm(vmId, command);
    done.whenComplete((state, error) -> {
      if (error != null) log.info("report for VM {} not applied: {}", vmId, error.getMessage());
    });
    return Behaviors.same();
  }
}
