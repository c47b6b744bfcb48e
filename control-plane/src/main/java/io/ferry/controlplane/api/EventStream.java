package io.ferry.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.cli.UsersFile;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Tags;
import io.ferry.journal.node.NodeEvent;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.vm.VmEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.TimeBasedUUID;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The public event stream: every journaled event in a versioned {@link Envelope}, merged from the
 * per-type tag streams, with an opaque offset that resumes each of them where the subscriber
 * stopped (no gap, no duplicate per entity). Users see their own VMs' and timeslots' events;
 * admins see everything, node events included.
 */
public final class EventStream {
  /** The envelope's format version. */
  public static final int VERSION = 1;

  /**
   * One event as subscribers see it.
   *
   * @param offset resume with {@code ?since=offset} to get what came after this event
   */
  public record Envelope(int version, String offset, String entityType, String entityId, long sequenceNr,
      String eventType, Instant time, String owner, JsonNode data) {}

  /** What a subscriber asked for; {@code null} or empty means "any". */
  public record Filter(Set<String> entityTypes, String entityId, Set<String> eventTypes) {}

  private final CassandraReadJournal journal;
  private final Catalog catalog;
  private final Entities entities;

  private final io.ferry.controlplane.metrics.ControlMetrics.Subscribers subscribers;

  public EventStream(ActorSystem<?> system, Catalog catalog, Entities entities) {
    this(system, catalog, entities, io.ferry.controlplane.metrics.ControlMetrics.Subscribers.NONE);
  }

  /** As above, telling {@code subscribers} of each subscription and of each live event's delivery lag. */
  public EventStream(ActorSystem<?> system, Catalog catalog, Entities entities,
      io.ferry.controlplane.metrics.ControlMetrics.Subscribers subscribers) {
    this.subscribers = subscribers;
    this.journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.catalog = catalog;
    this.entities = entities;
  }

  /**
   * The live stream for {@code user} (admin: everyone's) from {@code since} (null: the beginning).
   *
   * @throws IllegalArgumentException if {@code since} is not an offset this stream gave out
   */
  public Source<Envelope, NotUsed> subscribe(UsersFile.User user, Filter filter, String since) {
    Map<String, String> start = decode(since);
    Instant subscribed = Instant.now();
    Set<String> types = filter.entityTypes() == null || filter.entityTypes().isEmpty() ? Tags.ALL : filter.entityTypes();
    Source<Pair<String, EventEnvelope>, NotUsed> merged = null;
    for (String tag : List.of(Tags.VM, Tags.TIMESLOT, Tags.NODE)) {
      if (!types.contains(tag)) continue;
      String at = start.get(tag);
      Offset offset = at == null ? NoOffset.getInstance() : Offset.timeBasedUUID(UUID.fromString(at));
      Source<Pair<String, EventEnvelope>, NotUsed> one = journal.eventsByTag(tag, offset).map(e -> Pair.create(tag, e));
      merged = merged == null ? one : merged.merge(one);
    }
    Map<String, String> positions = new LinkedHashMap<>(start);
    return merged
        .map(p -> {
          positions.put(p.first(), ((TimeBasedUUID) p.second().offset()).value().toString());
          return Pair.create(encode(positions), p);
        })
        .mapAsync(4, p -> owner(p.second().first(), p.second().second()).thenApply(owner -> envelope(p.first(), p.second().first(), p.second().second(), owner)))
        .filter(e -> user.admin() || (e.owner() != null && e.owner().equals(user.name())))
        .filter(e -> filter.entityId() == null || filter.entityId().equals(e.entityId())
            || (e.entityType().equals(Tags.VM) && VmIds.qualified(user, filter.entityId()).equals(e.entityId())))
        .filter(e -> filter.eventTypes() == null || filter.eventTypes().isEmpty() || filter.eventTypes().contains(e.eventType()))
        .watchTermination((mat, done) -> {
          subscribers.opened();
          done.whenComplete((d, x) -> subscribers.closed());
          return mat;
        })
        .map(e -> {
          // the lag of events that happened while subscribed (not of the history it replays first):
          // from the entity's journaling to here
          if (e.time().isAfter(subscribed)) subscribers.delivered(java.time.Duration.between(e.time(), Instant.now()));
          return e;
        });
  }

  private CompletionStage<String> owner(String tag, EventEnvelope e) {
    Object event = e.event();
    if (event instanceof VmEvent.VmRequested r) return CompletableFuture.completedFuture(r.spec().owner());
    if (event instanceof TimeslotEvent.TimeslotRequested r) return CompletableFuture.completedFuture(r.owner());
    if (event instanceof NodeEvent) return CompletableFuture.completedFuture(null);
    String id = e.persistenceId().substring(e.persistenceId().indexOf('|') + 1);
    String known = catalog.owner(tag, id);
    if (known != null) return CompletableFuture.completedFuture(known);
    if (tag.equals(Tags.VM)) {
      return entities.vm(id, Vm.GetVm::new).thenApply(s -> s.facts().spec() == null ? null : s.facts().spec().owner());
    }
    return entities.timeslot(id, Timeslot.GetTimeslot::new).thenApply(s -> s.facts().owner());
  }

  private static Envelope envelope(String offset, String tag, EventEnvelope e, String owner) {
    Object event = e.event();
    Instant time = event instanceof VmEvent v ? v.at() : event instanceof TimeslotEvent t ? t.at()
        : event instanceof NodeEvent n ? n.at() : Instant.ofEpochMilli(e.timestamp());
    return new Envelope(VERSION, offset, tag, e.persistenceId().substring(e.persistenceId().indexOf('|') + 1),
        e.sequenceNr(), event.getClass().getSimpleName(), time, owner, ApiJson.MAPPER.valueToTree(event));
  }

  static String encode(Map<String, String> positions) {
    List<String> parts = new ArrayList<>();
    positions.forEach((tag, uuid) -> parts.add(tag + "=" + uuid));
    return "v1." + Base64.getUrlEncoder().withoutPadding().encodeToString(String.join(",", parts).getBytes(StandardCharsets.UTF_8));
  }

  static Map<String, String> decode(String offset) {
    Map<String, String> positions = new LinkedHashMap<>();
    if (offset == null || offset.isBlank()) return positions;
    String bad = "offset '" + offset + "' was not given out by this event stream: resume with the 'offset' of the last event you received";
    if (!offset.startsWith("v1.")) throw new IllegalArgumentException(bad);
    try {
      String text = new String(Base64.getUrlDecoder().decode(offset.substring(3)), StandardCharsets.UTF_8);
      for (String part : text.split(",")) {
        String[] kv = part.split("=", 2);
        if (kv.length != 2 || !Tags.ALL.contains(kv[0])) throw new IllegalArgumentException(bad);
        UUID.fromString(kv[1]);
        positions.put(kv[0], kv[1]);
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(bad, e);
    }
    return positions;
  }
}
