package io.ferry.loadtests;

import io.ferry.journal.FerrySerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * Measures the journal's write latency under load: a persistent actor that persists one small
 * event every {@code interval} on the same Cassandra journal and records the time from the persist
 * call to its confirmation. Its events have their own persistence id ({@code Probe|…}), outside
 * Ferry's entities.
 */
public final class JournalProbe {
  /** The event it writes (Kryo id 4003). */
  public record ProbeEvent(long n, long sentNanos) implements FerrySerializable {}

  private record Tick() {}

  private record Stop() {}

  private final List<Double> latenciesMs = Collections.synchronizedList(new ArrayList<>());
  private ActorRef<Object> actor;

  /** Starts writing in {@code system} under persistence id {@code Probe|name}. */
  void start(ActorSystem<?> system, String name, Duration interval) {
    actor = system.systemActorOf(Behaviors.<Object>setup(context -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Tick(), interval);
      return new Writer(PersistenceId.of("Probe", name), latenciesMs);
    })), "journal-probe-" + name, org.apache.pekko.actor.typed.Props.empty());
  }

  void stop() {
    if (actor != null) actor.tell(new Stop());
  }

  List<Double> latenciesMs() {
    synchronized (latenciesMs) {
      return new ArrayList<>(latenciesMs);
    }
  }

  private static final class Writer extends EventSourcedBehavior<Object, ProbeEvent, Long> {
    private final List<Double> latencies;

    Writer(PersistenceId id, List<Double> latencies) {
      super(id);
      this.latencies = latencies;
    }

    @Override
    public Long emptyState() {
      return 0L;
    }

    @Override
    public CommandHandler<Object, ProbeEvent, Long> commandHandler() {
      return newCommandHandlerBuilder().forAnyState().onCommand(Tick.class, (n, t) -> {
        ProbeEvent e = new ProbeEvent(n + 1, System.nanoTime());
        return Effect().persist(e).thenRun(s -> latencies.add((System.nanoTime() - e.sentNanos()) / 1e6));
      }).onCommand(Stop.class, (n, s) -> Effect().stop()).build();
    }

    @Override
    public EventHandler<Long, ProbeEvent> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onEvent(ProbeEvent.class, (n, e) -> e.n()).build();
    }
  }

}
