package io.ferry.controlplane.agents;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * How entities reach node agents: by node id, wherever the agent runs in the cluster. Declared
 * where it is used (the Vm entity); {@link ReceptionistAgentLink} implements it.
 */
public interface AgentLink {
  /**
   * Sends {@code command} to the agent of {@code nodeId}; if no such agent can be found in time,
   * calls {@code onUnreachable} with a reason a person can read.
   */
  void send(String nodeId, AgentCommand command, Consumer<String> onUnreachable);

  /** Where agents send their reports (this member's agent gateway). */
  ActorRef<AgentReport> reportsTo();

  /** A link that reaches nothing, for unit tests of pure entity logic: every send is unreachable. */
  static AgentLink unreachable(ActorRef<AgentReport> reportsTo) {
    return new AgentLink() {
      @Override
      public void send(String nodeId, AgentCommand command, Consumer<String> onUnreachable) {}

      @Override
      public ActorRef<AgentReport> reportsTo() {
        return reportsTo;
      }
    };
  }
}
