package io.ferry.controlplane.agents;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentLookup;
import io.ferry.journal.agent.AgentReport;
import java.time.Duration;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** Finds agents through the cluster receptionist ({@link AgentLookup}). */
public final class ReceptionistAgentLink implements AgentLink {
  private final ActorSystem<?> system;
  private final ActorRef<AgentReport> gateway;
  private final Duration lookupTimeout;

  public ReceptionistAgentLink(ActorSystem<?> system, ActorRef<AgentReport> gateway, Duration lookupTimeout) {
    this.system = system;
    this.gateway = gateway;
    this.lookupTimeout = lookupTimeout;
  }

  @Override
  public ActorRef<AgentReport> reportsTo() {
    return gateway;
  }

  @Override
  public void send(String nodeId, AgentCommand command, Consumer<String> onUnreachable) {
    AgentLookup.find(system, nodeId, lookupTimeout).whenComplete((agent, error) -> {
      if (error == null) agent.tell(command);
      else onUnreachable.accept(error.getMessage());
    });
  }
}
