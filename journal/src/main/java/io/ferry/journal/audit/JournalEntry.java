package io.ferry.journal.audit;

import java.time.Instant;

/** One journaled event as read back: whose, which, when, and the event itself. */
public record JournalEntry(String persistenceId, long sequenceNr, Instant timestamp, Object event) {
  /** The entity type part of the persistence id ("Vm", "Timeslot", "Node"). */
  public String entityType() {
    int bar = persistenceId.indexOf('|');
    return bar < 0 ? "" : persistenceId.substring(0, bar);
  }

  /** The entity id part of the persistence id. */
  public String entityId() {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }
}
