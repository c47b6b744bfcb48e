package io.ferry.journal;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Fence orders: the control plane's word, in Cassandra beside the journal, that the agent member
 * it downed on a node must kill that node's QEMUs. An agent reads its node's orders every second
 * and fences at once when one names an incarnation of its own; while it reads none, its VMs are
 * safe to keep running whatever happened to the control members (a control plane that crashed or
 * restarts orders nothing, so nobody restarts those VMs elsewhere). An agent that can read nothing
 * fences once its last good read is {@code fence-after} old. The control side restarts a downed
 * node's VMs only {@code fence-after} plus a margin after its order was written, so by then the
 * agent has either read the order or stopped trusting old reads: the full argument is in
 * node-agent's {@code FenceLease}.
 *
 * <p>Orders are written and read at QUORUM, so a read that starts after a write completed sees it.
 */
public final class NodeFences {
  /** The session of the journal plugin (its contact points and driver settings). */
  private static final String SESSION = JournalCut.SESSION;

  private final CassandraSession session;
  private final String table;
  /** The table's creation, done once per instance: orders are rare, DDL before each is needless. */
  private volatile CompletionStage<Done> created;

  public NodeFences(ActorSystem<?> system) {
    this.session = CassandraSessionRegistry.get(system).sessionFor(SESSION);
    this.table = system.settings().config().getString("ferry.cassandra.keyspace") + ".node_fences";
  }

  /** Creates the table if it does not exist (control members do it at start; its keyspace is the journal's). */
  public CompletionStage<Done> createTable() {
    CompletionStage<Done> done = created;
    if (done != null && done.toCompletableFuture().isDone() && !done.toCompletableFuture().isCompletedExceptionally()) return done;
    done = session.executeDDL("CREATE TABLE IF NOT EXISTS " + table
        + " (node_id text, member_uid bigint, ordered_at timestamp, reason text, PRIMARY KEY (node_id, member_uid))");
    created = done;
    return done;
  }

  /** Orders the agent incarnation {@code memberUid} of {@code nodeId} to fence. Idempotent. */
  public CompletionStage<Done> order(String nodeId, long memberUid, String reason) {
    return createTable().thenCompose(d -> session.executeWrite(SimpleStatement.newInstance(
            "INSERT INTO " + table + " (node_id, member_uid, ordered_at, reason) VALUES (?, ?, ?, ?)",
            nodeId, memberUid, Instant.now(), reason)
        .setConsistencyLevel(ConsistencyLevel.QUORUM)));
  }

  /**
   * Whether an order names one of {@code memberUids} (the incarnations of one agent process). A
   * table (or keyspace) that does not exist yet holds no order: {@link #order} creates it before
   * it writes one.
   */
  public CompletionStage<Boolean> ordered(String nodeId, Set<Long> memberUids) {
    return session.selectAll(SimpleStatement.newInstance("SELECT member_uid FROM " + table + " WHERE node_id = ?", nodeId)
            .setConsistencyLevel(ConsistencyLevel.QUORUM))
        .thenApply(rows -> rows.stream().anyMatch(r -> memberUids.contains(r.getLong("member_uid"))))
        .exceptionally(error -> {
          Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
          if (cause instanceof InvalidQueryException) return false; // unconfigured table: no order was ever written
          throw error instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(error);
        });
  }
}
