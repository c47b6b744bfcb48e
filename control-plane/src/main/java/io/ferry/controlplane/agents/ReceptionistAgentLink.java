package io.ferry.controlplane.agents;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Finds agents through the cluster receptionist, under {@link AgentCommand#serviceKey}. The
 * receptionist's view spreads by gossip, so a lookup that finds nobody is retried until
 * {@code lookupTimeout}.
 */
public final class ReceptionistAgentLink implements AgentLink {
  private static final Duration RETRY = Duration.ofMillis(200);

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
    attempt(nodeId, command, onUnreachable, System.nanoTime() + lookupTimeout.toNanos());
  }

  private void attempt(String nodeId, AgentCommand command, Consumer<String> onUnreachable, long deadline) {
    ServiceKey<AgentCommand> key = AgentCommand.serviceKey(nodeId);
    AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            replyTo -> Receptionist.find(key, replyTo), Duration.ofSeconds(3), system.scheduler())
        .whenComplete((listing, error) -> {
          Set<ActorRef<AgentCommand>> agents = listing == null ? Set.of() : listing.getServiceInstances(key);
          if (!agents.isEmpty()) {
            agents.iterator().next().tell(command);
          } else if (System.nanoTime() < deadline) {
            system.scheduler().scheduleOnce(RETRY, () -> attempt(nodeId, command, onUnreachable, deadline), system.executionContext());
          } else {
            onUnreachable.accept("no agent of node " + nodeId + " is in the cluster (looked for "
                + lookupTimeout.toSeconds() + " s)");
          }
        });
  }
}
