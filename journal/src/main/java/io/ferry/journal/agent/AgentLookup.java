package io.ferry.journal.agent;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Finds the agent of a node through the cluster receptionist, under
 * {@link AgentCommand#serviceKey}. The receptionist's view spreads by gossip, so a lookup that
 * finds nobody is retried every 200 ms until the timeout; only reachable agents are returned.
 */
public final class AgentLookup {
  private static final Duration RETRY = Duration.ofMillis(200);

  private AgentLookup() {}

  /** Completes with the agent, or fails with a reason a person can read. */
  public static CompletionStage<ActorRef<AgentCommand>> find(ActorSystem<?> system, String nodeId, Duration timeout) {
    CompletableFuture<ActorRef<AgentCommand>> found = new CompletableFuture<>();
    attempt(system, nodeId, timeout, System.nanoTime() + timeout.toNanos(), found);
    return found;
  }

  private static void attempt(ActorSystem<?> system, String nodeId, Duration timeout, long deadline,
      CompletableFuture<ActorRef<AgentCommand>> found) {
    var key = AgentCommand.serviceKey(nodeId);
    AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            replyTo -> Receptionist.find(key, replyTo), Duration.ofSeconds(3), system.scheduler())
        .whenComplete((listing, error) -> {
          Set<ActorRef<AgentCommand>> agents = listing == null ? Set.of() : listing.getServiceInstances(key);
          if (!agents.isEmpty()) {
            found.complete(agents.iterator().next());
          } else if (System.nanoTime() < deadline) {
            system.scheduler().scheduleOnce(RETRY, () -> attempt(system, nodeId, timeout, deadline, found), system.executionContext());
          } else {
            found.completeExceptionally(new IllegalStateException("no agent of node " + nodeId
                + " is in the cluster (looked for " + timeout.toSeconds() + " s)"));
          }
        });
  }
}
