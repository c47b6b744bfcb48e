package io.ferry.controlplane.qemu;

import io.ferry.journal.vm.VmEvent;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/** Reads a VM's journal back from Cassandra in the end-to-end tests. */
final class PersistenceQueryHelper {
  private PersistenceQueryHelper() {}

  static List<VmEvent.VmMigrated> migrations(ActorSystem<?> system, String vmId) {
    return events(system, vmId).stream().filter(VmEvent.VmMigrated.class::isInstance)
        .map(VmEvent.VmMigrated.class::cast).collect(Collectors.toList());
  }

  /** Every event of the VM, in order. */
  static List<VmEvent> events(ActorSystem<?> system, String vmId) {
    return journal(system, "Vm|" + vmId).stream().map(VmEvent.class::cast).collect(Collectors.toList());
  }

  /** The Cassandra read journal of {@code system}. */
  static CassandraReadJournal readJournal(ActorSystem<?> system) {
    return PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
  }

  /** Every event of one persistence id, in order. */
  static List<Object> journal(ActorSystem<?> system, String persistenceId) {
    return readJournal(system).currentEventsByPersistenceId(persistenceId, 0, Long.MAX_VALUE).runWith(Sink.seq(), system)
        .toCompletableFuture().join().stream().map(e -> e.event()).collect(Collectors.toList());
  }
}
