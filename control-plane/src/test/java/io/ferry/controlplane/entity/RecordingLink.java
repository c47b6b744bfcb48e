package io.ferry.controlplane.entity;

import io.ferry.controlplane.agents.AgentLink;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;

/** An {@link AgentLink} for entity unit tests: records what is sent; node {@link #GONE} has no agent. */
final class RecordingLink implements AgentLink {
  static final String GONE = "gone";

  record Sent(String nodeId, AgentCommand command) {}

  final List<Sent> sent = new CopyOnWriteArrayList<>();

  @Override
  public void send(String nodeId, AgentCommand command, Consumer<String> onUnreachable) {
    if (nodeId.equals(GONE)) {
      onUnreachable.accept("no agent of node " + GONE + " is in the cluster");
      return;
    }
    sent.add(new Sent(nodeId, command));
  }

  @Override
  public ActorRef<AgentReport> reportsTo() {
    return null;
  }

  /** The last command sent for {@code vmId}, which must have gone to {@code nodeId}. */
  AgentCommand last(String vmId, String nodeId) {
    for (int i = sent.size() - 1; i >= 0; i--) {
      Sent s = sent.get(i);
      if (s.command().vmId().equals(vmId)) {
        if (!s.nodeId().equals(nodeId)) throw new AssertionError("last command for " + vmId + " went to " + s.nodeId() + ", not " + nodeId);
        return s.command();
      }
    }
    throw new AssertionError("nothing was sent for " + vmId);
  }

  int count(String vmId) {
    return (int) sent.stream().filter(s -> s.command().vmId().equals(vmId)).count();
  }
}
