package io.ferry.journal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Cuts a member off the journal for good: force-closes its journal session, so that no write it
 * sent can reach Cassandra later. A member cut off by a partition keeps what it last wrote in its
 * kernel's socket buffers, and TCP would deliver it once the partition heals — after the surviving
 * side has recovered the entity and written events of the same numbers (two writers of one
 * persistence id; the audit could no longer replay it). Connections are opened with
 * {@code SO_LINGER 0} ({@code datastax-java-driver.advanced.socket.linger-interval = 0}, this
 * module's reference.conf), so closing them resets them and drops whatever was not delivered.
 *
 * <p>Called when an agent fences (before the control side's fence wait ends, which is what makes
 * the ordering safe) and when a member finds itself downed. In-flight writes fail here, which
 * is the point: their entities are on a member that is going away.
 */
public final class JournalCut {
  /** The session of the journal plugin, shared by journal, snapshots and queries. */
  static final String SESSION = "pekko.persistence.cassandra";

  private JournalCut() {}

  /** Force-closes the journal session of {@code system} (done, also when it had none or closing failed). */
  public static CompletionStage<Done> cut(ActorSystem<?> system) {
    try {
      return CassandraSessionRegistry.get(system).sessionFor(SESSION).underlying()
          .thenCompose(session -> session.forceCloseAsync())
          .handle((closed, error) -> {
            if (error != null) system.log().warn("journal session not force-closed: {}", error.toString());
            else system.log().warn("journal session force-closed: nothing this member sent can reach the journal any more");
            return Done.getInstance();
          });
    } catch (RuntimeException e) { // no session could be made (the system is terminating)
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  }
}
