package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
import io.ferry.journal.audit.JournalEntry;
import io.ferry.journal.audit.Replay;
import io.ferry.journal.audit.TimelineStep;
import io.ferry.journal.audit.Verifier;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.vm.VmEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * {@code /v1/audit}: an entity's timeline with the cause of each step and its state at any time
 * (owners and admins), and {@code verify}, the journal-wide invariant check (admins).
 */
final class AuditApi extends ApiSupport {
  record Timeline(String entity, String id, Instant at, Object stateAt, List<TimelineStep> steps) {}

  record Verification(boolean ok, int entities, long events, List<Verifier.Violation> violations) {}

  private final ActorSystem<?> system;
  private final CassandraReadJournal journal;
  private final Duration grace;

  AuditApi(ActorSystem<?> system, Users users, Duration askTimeout, Duration grace) {
    super(users, askTimeout);
    this.system = system;
    this.journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.grace = grace;
  }

  Route route(UsersFile.User user) {
    return pathPrefix("audit", () -> concat(
        path(PathMatchers.segment("vms").slash(PathMatchers.segment()), given -> vmTimeline(user, VmIds.qualified(user, given))),
        path(PathMatchers.segment("timeslots").slash(PathMatchers.segment()), id -> get(() -> parameterOptional("at", at ->
            respond(safely(() -> entries("Timeslot|" + id)).thenApply(entries -> {
              Instant when = time(at);
              String owner = entries.isEmpty() ? null : ((TimeslotEvent.TimeslotRequested) entries.get(0).event()).owner();
              if (owner == null || (!user.admin() && !owner.equals(user.name()))) throw ApiError.notFound("timeslot " + id + " not found");
              var state = Replay.timeslotStateAt(id, entries, when);
              return json(200, new Timeline("timeslot", id, when, state.facts().request() == null ? null : Views.timeslot(state),
                  Replay.timeslotTimeline(id, entries)));
            }))))),
        path("verify", () -> get(() -> {
          if (!user.admin()) return complete(problem(403, "forbidden", "audit verify reads the whole journal: it needs an admin token"));
          return respond(verify().thenApply(v -> json(200, v)));
        }))));
  }

  private Route vmTimeline(UsersFile.User user, String id) {
    return get(() -> parameterOptional("at", at ->
        respond(safely(() -> entries("Vm|" + id)).thenApply(entries -> {
          Instant when = time(at);
          String owner = entries.isEmpty() ? null : ((VmEvent.VmRequested) entries.get(0).event()).spec().owner();
          if (owner == null || (!user.admin() && !owner.equals(user.name()))) throw ApiError.notFound("VM " + id + " not found");
          var state = Replay.vmStateAt(id, entries, when);
          return json(200, new Timeline("vm", id, when, state.facts().spec() == null ? null : Views.vm(state), Replay.vmTimeline(id, entries)));
        }))));
  }

  private static Instant time(Optional<String> at) {
    if (at.isEmpty()) return Instant.now();
    try {
      return Instant.parse(at.get());
    } catch (DateTimeParseException e) {
      throw ApiError.badRequest("'at' must be an ISO-8601 instant such as 2026-11-24T08:00:00Z, not '" + at.get() + "'");
    }
  }

  private CompletionStage<List<JournalEntry>> entries(String persistenceId) {
    return journal.currentEventsByPersistenceId(persistenceId, 0, Long.MAX_VALUE)
        .map(e -> new JournalEntry(e.persistenceId(), e.sequenceNr(), Instant.ofEpochMilli(e.timestamp()), e.event()))
        .runWith(Sink.seq(), system);
  }

  /** Reads every VM's and timeslot's events and checks the invariants. */
  CompletionStage<Verification> verify() {
    return journal.currentPersistenceIds()
        .filter(id -> id.startsWith("Vm|") || id.startsWith("Timeslot|"))
        .mapAsync(4, id -> entries(id).thenApply(list -> Map.entry(id, list)))
        .runWith(Sink.seq(), system)
        .thenApply(all -> {
          Map<String, List<JournalEntry>> journal = new TreeMap<>();
          long events = 0;
          for (var e : all) {
            journal.put(e.getKey(), e.getValue());
            events += e.getValue().size();
          }
          List<Verifier.Violation> violations = Verifier.verify(new LinkedHashMap<>(journal), Instant.now(), grace);
          return new Verification(violations.isEmpty(), journal.size(), events, violations);
        });
  }
}
