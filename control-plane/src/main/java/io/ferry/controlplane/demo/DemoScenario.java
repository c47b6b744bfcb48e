package io.ferry.controlplane.demo;

import com.typesafe.config.ConfigFactory;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.CassandraPreflight.CassandraUnavailableException;
import io.ferry.journal.node.NodeCapacity;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The foundation demo: joins a running control plane as a second member and walks a VM and two
 * timeslots through their lifecycles via sharding, then reads the VM's journal back from Cassandra.
 *
 * <p>There are no node agents yet, so this scenario plays the agents' reports itself (node joins,
 * "QEMU started", migration figures); everything else (the entities, sharding, the journal in
 * Cassandra, rejections) is the real control plane.
 */
@Command(name = "ferry-demo-scenario", mixinStandardHelpOptions = true,
    description = "Joins the control plane at --seed and walks a VM and two timeslots through their"
        + " lifecycles, printing each step and finally the VM's journal as read from Cassandra.")
public final class DemoScenario implements Callable<Integer> {

  @Option(names = "--seed", defaultValue = "127.0.0.1:25520", paramLabel = "HOST:PORT",
      description = "a running control member to join (default: ${DEFAULT-VALUE})")
  String seed;

  private Entities entities;

  public static void main(String[] args) {
    System.exit(new CommandLine(new DemoScenario()).execute(args));
  }

  private static void step(String text) {
    System.out.printf("%s  %s%n", Instant.now().toString().substring(11, 23), text);
  }

  private static <T> T await(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private static String describe(VmState s) {
    var p = s.facts().placement();
    return "VM " + s.vmId() + " is " + s.stage() + (p == null ? "" : " on " + p)
        + (s.facts().lastImage() == null ? "" : " (last image " + s.facts().lastImage() + ")");
  }

  private static String describe(TimeslotState s) {
    var f = s.facts();
    return "timeslot " + f.timeslotId() + " is " + s.stage()
        + (f.nodeId() == null ? "" : " on " + f.nodeId() + ", " + f.freeCores() + " cores free, ends "
            + f.end().toString().substring(11, 19));
  }

  @Override
  public Integer call() {
    ActorSystem<Void> system;
    try {
      system = ControlPlane.start(ControlPlane.config(
          ControlPlane.overrides("127.0.0.1", 0, List.of(seed)).withFallback(ConfigFactory.empty())));
    } catch (CassandraUnavailableException e) {
      System.err.println("error: " + e.getMessage());
      return 3;
    }
    try {
      awaitUp(system);
      entities = new Entities(system, Duration.ofSeconds(20));
      run(system);
      return 0;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }

  private void awaitUp(ActorSystem<?> system) {
    CompletableFuture<Void> up = new CompletableFuture<>();
    org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> up.complete(null));
    try {
      up.get(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("could not join the control plane at " + seed + " within 30 s"
          + " (is it running? ops/control-plane.sh start)");
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException(e);
    }
    step("joined the control plane at " + seed + " as " + Cluster.get(system).selfMember().address());
  }

  private void run(ActorSystem<?> system) {
    String run = UUID.randomUUID().toString().substring(0, 6);
    String n1 = "node1-" + run, n2 = "node2-" + run;
    String s1 = "slot1-" + run, s2 = "slot2-" + run;
    String vm = "vm-" + run;
    Cause alice = Cause.user("alice");
    Instant now = Instant.now();

    step("-- two nodes join (played by the demo: node agents come with the node-agent issue)");
    for (String n : List.of(n1, n2)) {
      var node = await(entities.node(n, r -> new Node.RegisterNode(n + ".cluster", new NodeCapacity(2, 4096,
          Set.of("qemu", "accel:tcg")), "demo-agent-" + n, r)));
      step("node " + n + " is " + node.stage());
    }

    step("-- two timeslots are requested, submitted and become active");
    TimeslotRequest req = new TimeslotRequest(2, 4096, Duration.ofMinutes(10), "demo");
    for (var sn : List.of(List.of(s1, n1), List.of(s2, n2))) {
      String slot = sn.get(0);
      await(entities.timeslot(slot, r -> new Timeslot.RequestTimeslot("alice", req, "local", alice, r)));
      await(entities.timeslot(slot, r -> new Timeslot.RecordSubmitted("job-" + slot, r)));
      step(describe(await(entities.timeslot(slot, r -> new Timeslot.Activate(sn.get(1), now, now.plus(req.walltime()), r)))));
    }

    step("-- alice creates a tiny VM; it is placed on " + s1 + " and started");
    step(describe(await(entities.vm(vm, r -> new Vm.CreateVm(new VmSpec("alice", Flavour.TINY, "debian-tiny", VmMode.DYNAMIC), alice, r)))));
    reserve(s1, vm);
    step(describe(await(entities.vm(vm, r -> new Vm.PlaceVm(new Placement(s1, n1), alice, r)))));
    await(entities.vm(vm, Vm.ReportStarting::new));
    step(describe(await(entities.vm(vm, Vm.ReportStarted::new))));

    step("-- " + s1 + " is expiring: the VM is ferried live to " + s2);
    step(describe(await(entities.timeslot(s1, r -> new Timeslot.MarkExpiring("walltime ends in 5 minutes", r)))));
    tryIt("placing another VM on the expiring " + s1, entities.timeslot(s1,
        r -> new Timeslot.ReserveCapacity(new Reservation("other-" + run, 1, 128), r)));
    reserve(s2, vm);
    step(describe(await(entities.vm(vm, r -> new Vm.MigrateVm(new Placement(s2, n2), Cause.expiry(s1), r)))));
    step(describe(await(entities.vm(vm, r -> new Vm.ReportMigrated(new MigrationStats(700, 40, 3_000_000), r)))));
    await(entities.timeslot(s1, r -> new Timeslot.FreeCapacity(vm, r)));
    step(describe(await(entities.timeslot(s1, Timeslot.MarkExpired::new))));

    step("-- no timeslot left after " + s2 + ": the VM is suspended to shared storage, then resumed");
    step(describe(await(entities.vm(vm, r -> new Vm.SuspendVm("/shared/ferry/" + vm + ".state", Cause.expiry(s2), r)))));
    step(describe(await(entities.vm(vm, r -> new Vm.ReportSuspended(41_000_000, r)))));
    await(entities.timeslot(s2, r -> new Timeslot.FreeCapacity(vm, r)));
    reserve(s2, vm);
    step(describe(await(entities.vm(vm, r -> new Vm.ResumeVm(new Placement(s2, n2), alice, r)))));
    step(describe(await(entities.vm(vm, Vm.ReportResumed::new))));

    step("-- alice stops the VM");
    await(entities.vm(vm, r -> new Vm.StopVm(alice, r)));
    step(describe(await(entities.vm(vm, Vm.ReportStopped::new))));
    tryIt("migrating the stopped VM", entities.vm(vm, r -> new Vm.MigrateVm(new Placement(s1, n1), alice, r)));

    step("-- the VM's journal, read back from Cassandra (eventsByPersistenceId)");
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    List<EventEnvelope> events = await(journal.currentEventsByPersistenceId("Vm|" + vm, 0, Long.MAX_VALUE)
        .runWith(Sink.seq(), system));
    for (EventEnvelope e : events) {
      step(String.format("  #%-2d %s", e.sequenceNr(), e.event()));
    }
    step("demo scenario done: " + events.size() + " events journaled for " + vm);
  }

  private void reserve(String slot, String vm) {
    step(describe(await(entities.timeslot(slot, r -> new Timeslot.ReserveCapacity(new Reservation(vm, 1, 128), r)))));
  }

  private static void tryIt(String what, CompletionStage<?> stage) {
    try {
      await(stage);
      step(what + ": accepted (unexpected)");
    } catch (CompletionException e) {
      step(what + ": rejected, as it should be: " + e.getCause().getMessage());
    }
  }
}
