package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.MigrationProgress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The cluster-wide topic of live migration progress: the source agent publishes every step of a
 * migration's progress there (besides sending it to whoever asked for the migration), so that any
 * control member can show it ({@code GET /v1/vms/{id}/progress}). One topic actor per member;
 * Pekko's topic finds the others through the receptionist. Progress is never journaled.
 */
public final class ProgressTopic {
  /** The topic's name, the same on every member. */
  public static final String NAME = "ferry-migration-progress";

  private static final Map<ActorSystem<?>, ActorRef<Topic.Command<MigrationProgress>>> TOPICS = new ConcurrentHashMap<>();

  private ProgressTopic() {}

  /** This member's topic actor, started on first use. */
  public static ActorRef<Topic.Command<MigrationProgress>> of(ActorSystem<?> system) {
    return TOPICS.computeIfAbsent(system, s -> {
      ActorRef<Topic.Command<MigrationProgress>> topic = s.systemActorOf(Topic.create(MigrationProgress.class, NAME),
          "migration-progress", Props.empty());
      s.getWhenTerminated().thenRun(() -> TOPICS.remove(s));
      return topic;
    });
  }
}
