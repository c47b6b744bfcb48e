package io.ferry.controlplane.timeslots;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.batch.BatchSystem.JobState;
import io.ferry.controlplane.batch.BatchSystem.JobStatus;
import io.ferry.controlplane.batch.BatchSystems;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every timeslot's batch job and clock, one instance in the cluster (a singleton on the
 * oldest control member): a pending job that runs on a node whose agent has joined makes its
 * timeslot Active with the batch system's start and end; an Active timeslot within the warning
 * lead of its end starts Expiring (the batch system's own warning signal may come first, through
 * the agent); a job that ended makes it Expired (or Failed if it never ran); a moved end is
 * recorded. Each tick then lets the {@link Evacuation} move VMs off expiring timeslots and resume
 * suspended ones.
 */
public final class TimeslotKeeper {
  private static final Logger log = LoggerFactory.getLogger(TimeslotKeeper.class);

  private record Tick() {}

  private TimeslotKeeper() {}

  public static Behavior<Object> create(Catalog catalog, Entities entities, BatchSystems batch, Evacuation evacuation,
      Clock clock, Duration tick) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Tick(), tick);
      return Behaviors.receive(Object.class)
          .onMessage(Tick.class, t -> {
            try {
              follow(catalog, entities, batch, clock, upMembers(context.getSystem()));
              evacuation.tick();
            } catch (Exception e) { // never let one bad record stop the keeper (Scala code may throw checked ones)
              log.error("timeslot keeper tick failed: {}", e.toString(), e);
            }
            return Behaviors.same();
          })
          .build();
    }));
  }

  /** The members that are Up now. */
  private static Set<org.apache.pekko.actor.Address> upMembers(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    Set<org.apache.pekko.actor.Address> up = new java.util.HashSet<>();
    for (org.apache.pekko.cluster.Member m : org.apache.pekko.cluster.typed.Cluster.get(system).state().getMembers()) {
      if (m.status() == org.apache.pekko.cluster.MemberStatus.up()) up.add(m.address());
    }
    return up;
  }

  /**
   * @param up the members Up now: a node counts as joined only if its registered agent is one of
   *           them (a node may still be recorded Joined by an agent of an earlier job that is gone)
   */
  private static void follow(Catalog catalog, Entities entities, BatchSystems batch, Clock clock,
      Set<org.apache.pekko.actor.Address> up) {
    Instant now = clock.instant();
    Set<String> joined = catalog.nodes().stream().filter(n -> n instanceof NodeState.Joined)
        .filter(n -> up.contains(n.facts().agentMember()))
        .map(n -> n.facts().nodeId()).collect(Collectors.toSet());
    // every followed job of a backend is read in one query per tick
    java.util.Map<String, java.util.List<TimeslotState>> byBackend = new java.util.LinkedHashMap<>();
    for (TimeslotState slot : catalog.timeslots(null)) {
      var f = slot.facts();
      String id = f.timeslotId();
      boolean followed = slot instanceof TimeslotState.Pending || slot instanceof TimeslotState.Active || slot instanceof TimeslotState.Expiring;
      if (!followed || f.jobId() == null || !batch.submits(f.backend())) continue;
      if (slot instanceof TimeslotState.Active && f.end() != null && !now.isBefore(f.end().minus(batch.warningLead()))) {
        entities.timeslot(id, r -> new Timeslot.MarkExpiring("its end at " + f.end() + " is within the warning lead of "
            + batch.warningLead().toSeconds() + " s", r));
      }
      byBackend.computeIfAbsent(f.backend(), b -> new java.util.ArrayList<>()).add(slot);
    }
    byBackend.forEach((backend, slots) -> {
      Set<String> jobs = slots.stream().map(s -> s.facts().jobId()).collect(Collectors.toCollection(java.util.LinkedHashSet::new));
      batch.call(backend, b -> b.statuses(jobs)).whenComplete((statuses, error) -> {
        if (error != null) {
          log.warn("cannot read {} job(s) from {}: {}", jobs.size(), backend, error.getMessage());
          return;
        }
        for (TimeslotState slot : slots) {
          JobStatus status = statuses.get(slot.facts().jobId());
          if (status != null) apply(entities, batch, slot, status, joined);
        }
      });
    });
  }

  private static void apply(Entities entities, BatchSystems batch, TimeslotState slot, JobStatus status, Set<String> joined) {
    var f = slot.facts();
    String id = f.timeslotId();
    if (slot instanceof TimeslotState.Pending) {
      if (status.state() == JobState.RUNNING && status.node() != null && joined.contains(status.node())) {
        entities.timeslot(id, r -> new Timeslot.Activate(status.node(), status.start(), status.end(), r));
      } else if (status.state().ended()) {
        entities.timeslot(id, r -> new Timeslot.FailTimeslot("job " + f.jobId() + " ended (" + status.state() + ") before it ran: "
            + status.reason(), r));
        // a job that cannot run may still be listed (Grid Engine's error state): it goes too
        batch.call(f.backend(), b -> {
          b.cancel(f.jobId());
          return null;
        }).whenComplete((x, e) -> {
          if (e != null) log.warn("timeslot {}: cannot cancel its failed job {}: {}", id, f.jobId(), e.getMessage());
        });
      }
      return;
    }
    if (status.state().ended()) {
      entities.timeslot(id, r -> new Timeslot.MarkExpired(r));
    } else if (status.end() != null && f.end() != null && !status.end().equals(f.end())) {
      entities.timeslot(id, r -> new Timeslot.ChangeEnd(status.end(), r));
    }
  }
}
