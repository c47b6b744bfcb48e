package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import io.ferry.nodeagent.driver.HypervisorDriver;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Registers the agent's node with the control plane: finds an agent gateway through the
 * receptionist and sends {@link AgentReport.RegisterAgent} every few seconds until one accepts it.
 */
final class Registration {
  private record Tick() {}

  private Registration() {}

  static Behavior<Object> create(AgentSettings settings, HypervisorDriver driver, ActorRef<AgentCommand> agent) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      var listings = context.messageAdapter(Receptionist.Listing.class, l -> l);
      context.getSystem().receptionist().tell(Receptionist.subscribe(AgentReport.GATEWAY_KEY, listings));
      ActorRef<AgentReport.Registered> answers = context.messageAdapter(AgentReport.Registered.class, r -> r);
      timers.startTimerWithFixedDelay(new Tick(), Duration.ofSeconds(2));
      Set<?>[] gateways = {Set.of()};
      int[] tries = {0};
      return Behaviors.receive(Object.class)
          .onMessage(Receptionist.Listing.class, l -> {
            gateways[0] = l.getServiceInstances(AgentReport.GATEWAY_KEY);
            context.getSelf().tell(new Tick());
            return Behaviors.same();
          })
          .onMessage(Tick.class, t -> {
            // each try asks the next gateway the receptionist lists: one that is gone (a control
            // member's incarnation before a restart, still listed) cannot hold the registration up
            java.util.List<?> known = new java.util.ArrayList<>(gateways[0]);
            int attempt = tries[0]++;
            if (!known.isEmpty()) {
              @SuppressWarnings("unchecked")
              ActorRef<AgentReport> gateway = (ActorRef<AgentReport>) known.get(attempt % known.size());
              gateway.tell(new AgentReport.RegisterAgent(AgentCommand.PROTOCOL_VERSION, settings.nodeId(),
                  settings.hostname(), settings.capacity(driver), agent, answers, settings.timeslotId(), settings.jobId()));
              if (attempt > 0 && attempt % 5 == 0) {
                context.getLog().warn("node {} is not registered yet ({} tries): asking agent gateway {} of the {} listed",
                    settings.nodeId(), attempt + 1, gateway.path(), known.size());
              }
            } else if (attempt > 0 && attempt % 5 == 0) {
              context.getLog().warn("node {} is not registered yet: the receptionist lists no agent gateway ({} tries)",
                  settings.nodeId(), attempt + 1);
            }
            return Behaviors.same();
          })
          .onMessage(AgentReport.Registered.class, r -> {
            if (r.accepted()) {
              context.getLog().info("node {} registered with the control plane", r.nodeId());
              timers.cancelAll();
              return Behaviors.ignore();
            }
            context.getLog().error("the control plane refused node {}: {}", r.nodeId(), r.reason());
            return Behaviors.same();
          })
          .build();
    }));
  }
}
