package io.ferry.controlplane.demo;

import io.ferry.controlplane.api.VmIds;
import com.typesafe.config.ConfigFactory;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.batch.BatchSystems;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
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
 * The demo: joins a running control plane (with two node agents) as another member and walks a
 * real QEMU VM through its lifecycle via the entities: boot, live migration when its timeslot
 * expires, suspend and resume on another node, stop; the guest's counter shows it continued; then
 * it reads the VM's journal back from Cassandra.
 *
 * <p>Timeslots are played by the demo (their batch systems come with the timeslot issue).
 */
@Command(name = "ferry-demo-scenario", mixinStandardHelpOptions = true,
    description = "Joins the control plane at --seed and walks a real QEMU VM through boot, live migration,"
        + " suspend, resume and stop on the two nodes' agents, printing each step, the guest's counter and"
        + " finally the VM's journal as read from Cassandra.")
public final class DemoScenario implements Callable<Integer> {

  @Option(names = "--seed", defaultValue = "127.0.0.1:25520", paramLabel = "HOST:PORT",
      description = "a running control member to join (default: ${DEFAULT-VALUE})")
  String seed;

  @Option(names = "--nodes", split = ",", defaultValue = "node1,node2", paramLabel = "N1,N2",
      description = "the two nodes whose agents run (default: ${DEFAULT-VALUE})")
  List<String> nodes;

  @Option(names = "--user", defaultValue = "demo", description = "the user who owns the demo's VM (default: ${DEFAULT-VALUE})")
  String user;

  @Option(names = "--state-root", required = true, paramLabel = "DIR",
      description = "the folder holding each agent's state folder (<DIR>/<node>), to read guest consoles")
  Path stateRoot;

  private String node1;
  private String node2;

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
  public Integer call() throws Exception {
    return DemoMember.with(seed, system -> {
      step("joined the control plane at " + seed + " as " + Cluster.get(system).selfMember().address());
      entities = new Entities(system, Duration.ofSeconds(20));
      node1 = nodes.get(0);
      node2 = nodes.get(1);
      run(system);
      return 0;
    });
  }



  private void run(ActorSystem<?> system) {
    String run = UUID.randomUUID().toString().substring(0, 6);
    String s1 = "slot1-" + run, s2 = "slot2-" + run;
    String vm = VmIds.of(user, "vm-" + run);
    Cause alice = Cause.user(user);
    Instant now = Instant.now();

    step("-- the node agents of " + node1 + " and " + node2 + " register their nodes");
    for (String n : List.of(node1, node2)) {
      // the agent itself must be in the cluster (the node's record may be older than this agent)
      await(io.ferry.journal.agent.AgentLookup.find(system, n, Duration.ofSeconds(90)));
      var node = Poll.until("node " + n + " to join", 90, () -> await(entities.node(n, Node.GetNode::new)), s -> s.stage().equals("Joined"));
      step("node " + n + " is Joined: " + node.facts().capacity().cores() + " cores, capabilities "
          + new java.util.TreeSet<>(node.facts().capacity().capabilities()));
    }

    step("-- two timeslots become active (the demo plays the batch system: Slurm comes with the timeslot issue)");
    TimeslotRequest req = new TimeslotRequest(2, 2048, Duration.ofMinutes(10), "demo");
    for (var sn : List.of(List.of(s1, node1), List.of(s2, node2))) {
      String slot = sn.get(0);
      await(entities.timeslot(slot, r -> new Timeslot.RequestTimeslot(user, req, BatchSystems.MANUAL, alice, r)));
      await(entities.timeslot(slot, r -> new Timeslot.RecordSubmitted("job-" + slot, r)));
      step(describe(await(entities.timeslot(slot, r -> new Timeslot.Activate(sn.get(1), now, now.plus(req.walltime()), r)))));
    }

    step("-- " + user + " creates a tiny VM; it is placed on " + s1 + " and its agent boots it in QEMU");
    step(describe(await(entities.vm(vm, r -> new Vm.CreateVm(new VmSpec(user, Flavour.TINY, "tiny", VmMode.DYNAMIC), alice, r)))));
    reserve(s1, vm);
    step(describe(await(entities.vm(vm, r -> new Vm.PlaceVm(new Placement(s1, node1), alice, r)))));
    step(describe(Poll.until("VM " + vm + " to run", 90, () -> await(entities.vm(vm, Vm.GetVm::new)), s -> s.stage().equals("Running"))));
    String before = guest(node1, vm, 10);
    step("the guest counts on " + node1 + ": " + before);

    step("-- " + s1 + " is expiring: the VM is ferried live to " + s2);
    step(describe(await(entities.timeslot(s1, r -> new Timeslot.MarkExpiring("walltime ends in 5 minutes", r)))));
    tryIt("placing another VM on the expiring " + s1, entities.timeslot(s1,
        r -> new Timeslot.ReserveCapacity(new Reservation("other-" + run, 1, 128), r)));
    reserve(s2, vm);
    ActorRef<MigrationProgress> progress = system.systemActorOf(Behaviors.receive(MigrationProgress.class)
        .onMessage(MigrationProgress.class, p -> {
          step(String.format("   migration %3d%%  (%d MiB sent)", p.percent(), p.transferredBytes() >> 20));
          return Behaviors.same();
        }).build(), "demo-progress-" + run, org.apache.pekko.actor.typed.Props.empty());
    step(describe(await(entities.vm(vm, r -> new Vm.MigrateVm(new Placement(s2, node2), MigrationSettings.DEFAULT, progress, Cause.expiry(s1), r)))));
    step(describe(Poll.until("VM " + vm + " to run on " + node2, 90, () -> await(entities.vm(vm, Vm.GetVm::new)),
        s -> s.stage().equals("Running") && s.facts().placement().nodeId().equals(node2))));
    step("the guest went on counting on " + node2 + ": " + guest(node2, vm, 3) + " (before: " + before + ")");
    await(entities.timeslot(s1, r -> new Timeslot.FreeCapacity(vm, r)));
    step(describe(await(entities.timeslot(s1, Timeslot.MarkExpired::new))));

    step("-- no timeslot is free: the VM is suspended to shared storage, then resumed on " + node1);
    step(describe(await(entities.vm(vm, r -> new Vm.SuspendVm(vm + ".state", Cause.expiry(s2), r)))));
    step(describe(Poll.until("VM " + vm + " to be suspended", 90, () -> await(entities.vm(vm, Vm.GetVm::new)), s -> s.stage().equals("Suspended"))));
    String suspended = guest(node2, vm, 0);
    await(entities.timeslot(s2, r -> new Timeslot.FreeCapacity(vm, r)));
    Instant later = Instant.now();
    String s3 = "slot3-" + run;
    await(entities.timeslot(s3, r -> new Timeslot.RequestTimeslot(user, req, BatchSystems.MANUAL, alice, r)));
    await(entities.timeslot(s3, r -> new Timeslot.RecordSubmitted("job-" + s3, r)));
    step(describe(await(entities.timeslot(s3, r -> new Timeslot.Activate(node1, later, later.plus(req.walltime()), r)))));
    reserve(s3, vm);
    step(describe(await(entities.vm(vm, r -> new Vm.ResumeVm(new Placement(s3, node1), alice, r)))));
    step(describe(Poll.until("VM " + vm + " to run on " + node1, 90, () -> await(entities.vm(vm, Vm.GetVm::new)),
        s -> s.stage().equals("Running") && s.facts().placement().nodeId().equals(node1))));
    step("the guest went on counting on " + node1 + ": " + guest(node1, vm, 3) + " (when saved: " + suspended + ")");

    step("-- " + user + " stops the VM");
    await(entities.vm(vm, r -> new Vm.StopVm(alice, r)));
    step(describe(Poll.until("VM " + vm + " to stop", 90, () -> await(entities.vm(vm, Vm.GetVm::new)), s -> s.stage().equals("Stopped"))));
    tryIt("migrating the stopped VM", entities.vm(vm, r -> new Vm.MigrateVm(new Placement(s1, node1), alice, r)));

    step("-- the VM's journal, read back from Cassandra (eventsByPersistenceId)");
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    List<EventEnvelope> events = await(journal.currentEventsByPersistenceId("Vm|" + vm, 0, Long.MAX_VALUE)
        .runWith(Sink.seq(), system));
    for (EventEnvelope e : events) {
      step(String.format("  #%-2d %s", e.sequenceNr(), e.event()));
    }
    step("demo done: " + events.size() + " events journaled for " + vm);
  }

  /** The test guest's last counter line on {@code node}, read from its console (waits for {@code more} new lines). */
  private String guest(String node, String vm, int more) {
    Path handle = stateRoot.resolve(node).resolve("handles").resolve(vm + ".json");
    String[] console = {null};
    if (Files.exists(handle)) {
      try {
        Matcher m = Pattern.compile("\"console\"\\s*:\\s*\"([^\"]+)\"").matcher(Files.readString(handle));
        if (m.find()) console[0] = m.group(1);
      } catch (IOException e) {
        return "(cannot read " + handle + ")";
      }
    }
    if (console[0] == null) console[0] = lastConsole.get(node + vm);
    if (console[0] == null) return "(no console of " + vm + " on " + node + ")";
    lastConsole.put(node + vm, console[0]);
    int first = countLines(Path.of(console[0]));
    Poll.until("the guest to count", 90, () -> countLines(Path.of(console[0])), n -> n >= first + more);
    try {
      List<String> lines = Files.readAllLines(Path.of(console[0]));
      for (int i = lines.size() - 1; i >= 0; i--) if (lines.get(i).startsWith("CNT ")) return lines.get(i);
    } catch (IOException e) {
      return "(cannot read " + console[0] + ")";
    }
    return "(no counter yet)";
  }

  private final Map<String, String> lastConsole = new HashMap<>();

  private static int countLines(Path console) {
    try {
      return (int) Files.readAllLines(console).stream().filter(l -> l.startsWith("CNT ")).count();
    } catch (IOException e) {
      return 0;
    }
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
