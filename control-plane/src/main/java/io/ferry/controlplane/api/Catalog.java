package io.ferry.controlplane.api;

import io.ferry.journal.Tags;
import io.ferry.journal.node.NodeEvent;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotEvent;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmState;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.query.MissingTaggedEventException;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.NoOffset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.RestartSettings;
import org.apache.pekko.stream.javadsl.RestartSource;
import org.apache.pekko.stream.javadsl.Sink;
import org.slf4j.Logger;
import scala.jdk.javaapi.CollectionConverters;
import org.slf4j.LoggerFactory;

/**
 * The read side behind the API's lists and the event stream's owners: every entity's state, folded
 * from the tagged event streams with the entities' own {@code LIFECYCLE}s, kept in memory on each
 * control member. It lags the journal by the tag query's delay (~0.2–0.5 s); entities the API
 * itself just created are shown at once.
 */
public final class Catalog {
  private static final Logger log = LoggerFactory.getLogger(Catalog.class);

  private record Entry<S>(S state, long sequenceNr) {}

  private final Map<String, Entry<VmState>> vms = new ConcurrentHashMap<>();
  private final Map<String, Entry<TimeslotState>> timeslots = new ConcurrentHashMap<>();
  private final Map<String, Entry<NodeState>> nodes = new ConcurrentHashMap<>();
  private final Map<String, Entry<io.ferry.journal.policy.PolicyState>> policies = new ConcurrentHashMap<>();
  private final Map<String, io.ferry.journal.vm.MigrationStats> lastMigration = new ConcurrentHashMap<>();
  private final Map<String, io.ferry.journal.Cause> lastSuspendCause = new ConcurrentHashMap<>();
  private final io.ferry.controlplane.timeslots.MigrationRates rates = new io.ferry.controlplane.timeslots.MigrationRates();

  /** Told of each event that advanced its entity's fold: each journaled event once. */
  private final java.util.function.Consumer<Object> folded;

  private Catalog(java.util.function.Consumer<Object> folded) {
    this.folded = folded;
  }

  /** Starts following the journal (live, restarting the streams if they fail). */
  public static Catalog follow(ActorSystem<?> system) {
    return follow(system, e -> {});
  }

  /**
   * Starts following the journal and tells {@code folded} of each event once, as it is folded
   * (an event the tag query delivers again after a restart of its stream is not told twice).
   */
  public static Catalog follow(ActorSystem<?> system, java.util.function.Consumer<Object> folded) {
    Catalog catalog = new Catalog(folded);
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    RestartSettings restart = RestartSettings.create(java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(10), 0.2);
    java.util.List<String> tags = new java.util.ArrayList<>(Tags.ALL);
    tags.add(Tags.POLICY);
    io.ferry.controlplane.Entities entities = io.ferry.controlplane.Entities.of(system);
    for (String tag : tags) {
      RestartSource.withBackoff(restart, () -> journal.eventsByTag(tag, NoOffset.getInstance())
              .mapError(new org.apache.pekko.japi.pf.PFBuilder<Throwable, Throwable>()
                  .match(MissingTaggedEventException.class, e -> {
                    catalog.repairTags(entities, e);
                    return e;
                  }).build()))
          .runWith(Sink.foreach(catalog::apply), system);
    }
    return catalog;
  }

  /** When each entity named by a missing-tag failure was last woken (per catalog: one per member). */
  private final Map<String, Long> woken = new ConcurrentHashMap<>();

  /**
   * The tag index (Cassandra's {@code tag_views}) lacks events that the journal holds — their tag
   * write failed while Cassandra was unreachable (found by ops/chaos: the timeslot stream then
   * failed on the same gap for good, the catalog stopped seeing timeslots, and no new one became
   * Active; the cause was Cassandra's periodic commit log, now {@code group} in ops/cassandra.sh).
   * An entity's recovery writes its missing tagged events again, so each entity named is woken
   * (an entity that is running repairs only once it passivated and recovers); the stream,
   * restarted with backoff, then finds them.
   */
  void repairTags(io.ferry.controlplane.Entities entities, MissingTaggedEventException e) {
    long now = System.nanoTime();
    CollectionConverters.asJava(e.missing()).forEach((pid, seqs) -> {
      int bar = pid.indexOf('|');
      if (bar < 0) return;
      // once a minute per entity: an entity that is running cannot repair itself, and waking it
      // again at every restart of the stream would keep it from ever passivating
      Long last = woken.get(pid);
      if (last != null && now - last < java.util.concurrent.TimeUnit.MINUTES.toNanos(1)) return;
      woken.put(pid, now);
      String type = pid.substring(0, bar);
      String id = pid.substring(bar + 1);
      log.warn("the journal's tag index ({}) lacks event(s) {} of {} (written while Cassandra failed): waking the entity, whose"
          + " recovery writes them again", e.tag(), CollectionConverters.asJava(seqs), pid);
      java.util.concurrent.CompletionStage<?> wake = switch (type) {
        case "Vm" -> entities.vm(id, io.ferry.controlplane.entity.Vm.GetVm::new);
        case "Timeslot" -> entities.timeslot(id, io.ferry.controlplane.entity.Timeslot.GetTimeslot::new);
        case "Node" -> entities.node(id, io.ferry.controlplane.entity.Node.GetNode::new);
        case "Policy" -> entities.policy(id, io.ferry.controlplane.entity.Policy.GetPolicy::new);
        default -> java.util.concurrent.CompletableFuture.completedFuture(null);
      };
      wake.whenComplete((s, x) -> {
        if (x != null) log.warn("cannot wake {} to repair its tagged events: {}", pid, x.getMessage());
      });
    });
  }

  void apply(EventEnvelope e) {
    String id = e.persistenceId().substring(e.persistenceId().indexOf('|') + 1);
    try {
      if (e.event() instanceof VmEvent.VmMigrated m && vms.get(id) != null) {
        rates.record(vms.get(id).state().facts().spec().flavour().memoryMiB(), m.stats().totalMs());
      }
      if (e.event() instanceof VmEvent.VmMigrated m) lastMigration.put(id, m.stats());
      if (e.event() instanceof VmEvent.VmSuspendStarted s) lastSuspendCause.put(id, s.cause());
      boolean advanced = false;
      if (e.event() instanceof VmEvent v) advanced = fold(vms, id, e.sequenceNr(), VmState.Empty.of(id), s -> VmState.LIFECYCLE.apply(s, v));
      else if (e.event() instanceof TimeslotEvent t) advanced = fold(timeslots, id, e.sequenceNr(), TimeslotState.Empty.of(id), s -> TimeslotState.LIFECYCLE.apply(s, t));
      else if (e.event() instanceof io.ferry.journal.policy.PolicyEvent p) advanced = fold(policies, id, e.sequenceNr(),
          io.ferry.journal.policy.PolicyState.Empty.of(id), s -> io.ferry.journal.policy.PolicyState.LIFECYCLE.apply(s, p));
      else if (e.event() instanceof NodeEvent n) advanced = fold(nodes, id, e.sequenceNr(), NodeState.Empty.of(id), s -> NodeState.LIFECYCLE.apply(s, n));
      if (advanced) folded.accept(e.event());
    } catch (RuntimeException ex) {
      log.error("catalog cannot fold {} #{}: {}", e.persistenceId(), e.sequenceNr(), ex.getMessage());
    }
  }

  /** Folds the entity's event {@code seq} into its state; whether it advanced (not a repeat or a gap). */
  private static <S> boolean fold(Map<String, Entry<S>> map, String id, long seq, S empty, java.util.function.UnaryOperator<S> next) {
    boolean[] advanced = {false};
    map.compute(id, (k, entry) -> {
      // the first event, unless it was folded already (an entity the API created is shown at 0 before it)
      if (seq == 1 && (entry == null || entry.sequenceNr() == 0)) {
        advanced[0] = true;
        return new Entry<>(next.apply(empty), 1);
      }
      if (entry != null && entry.sequenceNr() == seq - 1 && seq > 1) {
        advanced[0] = true;
        return new Entry<>(next.apply(entry.state()), seq);
      }
      return entry; // a repeat, or a gap the tag query will fill
    });
    return advanced[0];
  }

  /** QEMU's figures of the VM's last live migration, or {@code null}. */
  public io.ferry.journal.vm.MigrationStats lastMigration(String vmId) {
    return lastMigration.get(vmId);
  }

  /** Why the VM's last suspend was started (the cause journaled with it), or {@code null} if it never was. */
  public io.ferry.journal.Cause lastSuspendCause(String vmId) {
    return lastSuspendCause.get(vmId);
  }

  /** Where the catalog is in an entity's journal ("Vm|id#7"): the event a decision was made on. */
  public String position(String entityType, String id) {
    Entry<?> e = switch (entityType) {
      case "Vm" -> vms.get(id);
      case "Timeslot" -> timeslots.get(id);
      case "Node" -> nodes.get(id);
      default -> null;
    };
    return entityType + "|" + id + "#" + (e == null ? 0 : e.sequenceNr());
  }

  /** Migration rates measured on the live migrations seen so far. */
  public io.ferry.controlplane.timeslots.MigrationRates migrationRates() {
    return rates;
  }

  /** Shows an entity the API just created before its events come back through the tag query. */
  public void created(VmState state) {
    vms.putIfAbsent(state.vmId(), new Entry<>(state, 0));
  }

  public void created(TimeslotState state) {
    timeslots.putIfAbsent(state.facts().timeslotId(), new Entry<>(state, 0));
  }

  public List<VmState> vms(String owner) {
    return select(vms.values(), s -> owner == null || owner.equals(s.facts().spec().owner()), VmState::vmId);
  }

  public List<TimeslotState> timeslots(String owner) {
    return select(timeslots.values(), s -> owner == null || owner.equals(s.facts().owner()), s -> s.facts().timeslotId());
  }

  /** The policies of {@code owner} (all if {@code null}), deleted ones included. */
  public List<io.ferry.journal.policy.PolicyState> policies(String owner) {
    return select(policies.values(), s -> owner == null || owner.equals(s.facts().owner()), s -> s.facts().owner() + "/" + s.facts().name());
  }

  public List<NodeState> nodes() {
    return select(nodes.values(), s -> true, s -> s.facts().nodeId());
  }

  /** The owner of a VM or timeslot, or {@code null} if not known (yet). */
  public String owner(String entityType, String id) {
    if (entityType.equals(Tags.VM)) {
      Entry<VmState> e = vms.get(id);
      return e == null ? null : e.state().facts().spec().owner();
    }
    if (entityType.equals(Tags.TIMESLOT)) {
      Entry<TimeslotState> e = timeslots.get(id);
      return e == null ? null : e.state().facts().owner();
    }
    return null;
  }

  /**
   * The states {@code keep} accepts, ordered by their id. (Ordering by the whole record's
   * toString, as before, cost a core at 10,000 VMs: every timeslot's string holds all its
   * reservations, rebuilt at every comparison of every keeper tick.)
   */
  private static <S> List<S> select(Collection<Entry<S>> entries, java.util.function.Predicate<S> keep,
      java.util.function.Function<S, String> id) {
    return entries.stream().map(Entry::state).filter(s -> !s.getClass().getSimpleName().equals("Empty")).filter(keep)
        .sorted(java.util.Comparator.comparing(id)).collect(Collectors.toList());
  }
}
