package io.ferry.controlplane.api;

import io.ferry.journal.FerrySerializable;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * Test-only: writes events into a persistence id verbatim, bypassing the entities' rules, to
 * inject violations into a test keyspace's journal for {@code audit verify} to find.
 */
final class RawJournalWriter extends EventSourcedBehavior<RawJournalWriter.Write, FerrySerializable, Integer> {
  record Write(List<FerrySerializable> events, ActorRef<Done> replyTo) {}

  static Behavior<Write> create(String persistenceId) {
    return new RawJournalWriter(persistenceId);
  }

  private RawJournalWriter(String persistenceId) {
    super(PersistenceId.ofUniqueId(persistenceId));
  }

  @Override
  public Integer emptyState() {
    return 0;
  }

  @Override
  public CommandHandler<Write, FerrySerializable, Integer> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Write.class, w -> Effect().persist(w.events()).thenReply(w.replyTo(), s -> Done.getInstance()))
        .build();
  }

  @Override
  public EventHandler<Integer, FerrySerializable> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent((count, e) -> count + 1);
  }
}
