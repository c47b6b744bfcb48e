package io.ferry.controlplane.demo;

import io.ferry.controlplane.api.VmIds;
import com.typesafe.config.ConfigFactory;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.api.Catalog;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The ferry demo: a VM in QEMU outlives its timeslots. It keeps a rolling pool of timeslots on a
 * batch backend (local by default, or Slurm or Grid Engine; a policy script will do this later), boots a tiny VM on one, and
 * watches the control plane ferry it live from timeslot to timeslot as each expires, checking the
 * guest's counter across every hop. Stops after {@code --hops} hops (or on Ctrl-C) and prints a
 * one-line summary.
 */
@Command(name = "ferry-demo", mixinStandardHelpOptions = true,
    description = "Boots a VM on a timeslot and follows it as Ferry ferries it from timeslot to timeslot;"
        + " exits 0 only if the guest's counter continued across every hop.")
public final class FerryDemo implements Callable<Integer> {
  @Option(names = "--seed", defaultValue = "127.0.0.1:25520", description = "a control member to join (default: ${DEFAULT-VALUE})")
  String seed;

  @Option(names = "--hops", defaultValue = "0", description = "stop after this many hops (default: until Ctrl-C)")
  int hops;

  @Option(names = "--walltime", defaultValue = "PT75S", description = "each timeslot's walltime (default: ${DEFAULT-VALUE})")
  Duration walltime;

  @Option(names = "--backend", defaultValue = "local", paramLabel = "NAME",
      description = "batch backend: local, slurm or gridengine, as the control member has them enabled (default: ${DEFAULT-VALUE})")
  String backend;

  @Option(names = "--memory-mib", defaultValue = "2048", paramLabel = "MIB",
      description = "each timeslot's memory, MiB: what one of the batch system's nodes has room for (default: ${DEFAULT-VALUE})")
  int memoryMiB;

  @Option(names = "--user", defaultValue = "demo", description = "owner of the demo's VM and timeslots (default: ${DEFAULT-VALUE})")
  String user;

  @Option(names = "--agents-root", required = true, description = "where the agents keep their state (<dir>/<node>), to read the guest's console")
  Path agentsRoot;

  private Entities entities;

  public static void main(String[] args) {
    System.exit(new CommandLine(new FerryDemo()).execute(args));
  }

  private static void say(String text) {
    System.out.printf("%s  %s%n", Instant.now().toString().substring(11, 19), text);
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  @Override
  public Integer call() throws Exception {
    return DemoMember.with(seed, system -> {
      entities = new Entities(system, Duration.ofSeconds(20));
      return run(system, Catalog.follow(system));
    });
  }



  private String request() {
    lastRequest = Instant.now();
    String id = "ts-" + UUID.randomUUID().toString().substring(0, 8);
    await(entities.timeslot(id, r -> new Timeslot.RequestTimeslot(user, new TimeslotRequest(2, memoryMiB, walltime, ""), backend,
        Cause.policy("demo pool", "the demo keeps a rolling pool of timeslots"), r)));
    say("requested timeslot " + id + " from the " + backend + " batch system (walltime " + walltime.toSeconds() + " s)");
    return id;
  }

  private int run(ActorSystem<?> system, Catalog catalog) throws Exception {
    String first = request();
    TimeslotState active = Poll.until("timeslot " + first + " to be active", 180, () -> await(entities.timeslot(first, Timeslot.GetTimeslot::new)), s -> s instanceof TimeslotState.Active);
    startup = Duration.between(lastRequest, Instant.now());
    say("timeslot " + first + " is active on node " + active.facts().nodeId() + " until " + active.facts().end());
    String vm = VmIds.of(user, "demo-" + UUID.randomUUID().toString().substring(0, 6));
    await(entities.vm(vm, r -> new Vm.CreateVm(new VmSpec(user, Flavour.TINY, "tiny", VmMode.DYNAMIC), Cause.user(user), r)));
    await(entities.timeslot(first, r -> new Timeslot.ReserveCapacity(new Reservation(vm, 1, 128), r)));
    await(entities.vm(vm, r -> new Vm.PlaceVm(new Placement(first, active.facts().nodeId()), Cause.user(user), r)));
    VmState state = Poll.until("VM " + vm + " to run", 120, () -> await(entities.vm(vm, Vm.GetVm::new)), s -> s instanceof VmState.Running);
    String where = state.facts().placement().timeslotId();
    Path console = console(state.facts().placement().nodeId(), vm);
    String boot = guest(console)[1];
    say("VM " + vm + " boots on " + where + "@" + state.facts().placement().nodeId() + "; the guest counts: " + guest(console)[0]);

    int hop = 0;
    boolean continued = true;
    while (hops == 0 || hop < hops) {
      keepPool(catalog);
      VmState now = await(entities.vm(vm, Vm.GetVm::new));
      if (now instanceof VmState.Running && !now.facts().placement().timeslotId().equals(where)) {
        hop++;
        Path next = console(now.facts().placement().nodeId(), vm);
        String[] before = guest(console);
        String[] after = guest(next);
        boolean same = boot.equals(after[1]) && !after[1].isEmpty();
        continued &= same;
        say(String.format("hop %d: %s -> %s@%s; guest %s then %s%s", hop, where, now.facts().placement().timeslotId(),
            now.facts().placement().nodeId(), before[0], after[0], same ? " (same boot: it continued)" : " (REBOOTED)"));
        where = now.facts().placement().timeslotId();
        console = next;
      } else if (now instanceof VmState.Stopped || now instanceof VmState.Failed || now instanceof VmState.Deleted) {
        say("VM " + vm + " is " + now.stage() + ": " + now);
        continued = false;
        break;
      }
      Thread.sleep(500);
    }
    List<VmEvent> events = journal(system, vm);
    long lost = events.stream().filter(e -> e instanceof VmEvent.VmLost).count();
    long downtime = events.stream().filter(e -> e instanceof VmEvent.VmMigrated).mapToLong(e -> ((VmEvent.VmMigrated) e).stats().downtimeMs()).max().orElse(0);
    long suspends = events.stream().filter(e -> e instanceof VmEvent.VmSuspended).count();
    long restarted = events.stream().filter(e -> e instanceof VmEvent.VmPlaced).count() - 1; // a lost VM is placed again
    await(entities.vm(vm, r -> new Vm.StopVm(Cause.user(user), r)));
    say("stopped " + vm + "; its journal has " + events.size() + " events");
    System.out.printf("hops=%d lost=%d restarted=%d suspended=%d max_downtime_ms=%d%n", hop, lost, restarted, suspends, downtime);
    return continued && lost == 0 ? 0 : 1;
  }

  private Instant lastRequest = Instant.EPOCH;
  /** How long the first timeslot took from request to Active: the batch system's start-up. */
  private Duration startup = Duration.ZERO;

  /**
   * A rolling pool: a new timeslot every half walltime, less twice the batch system's start-up
   * (a Grid Engine job and its agent take ~8 s to be Active), but at least every quarter walltime,
   * so that when one starts expiring another is Active with most of its walltime left and the VM
   * can move live (a policy script will do this later).
   */
  private void keepPool(Catalog catalog) {
    Duration every = walltime.dividedBy(2).minus(startup.multipliedBy(2));
    if (every.compareTo(walltime.dividedBy(4)) < 0) every = walltime.dividedBy(4);
    if (Instant.now().isAfter(lastRequest.plus(every))) request();
  }

  private Path console(String node, String vm) throws IOException {
    Path handle = agentsRoot.resolve(node).resolve("handles").resolve(vm + ".json");
    Poll.until(handle.toString(), 60, () -> Files.exists(handle), b -> b);
    Matcher m = Pattern.compile("\"console\"\\s*:\\s*\"([^\"]+)\"").matcher(Files.readString(handle));
    if (!m.find()) throw new IllegalStateException("no console in " + handle);
    Path console = Path.of(m.group(1));
    Poll.until("the guest to count on " + console, 60, () -> !guest(console)[0].isEmpty(), b -> b);
    return console;
  }

  /** [last counter line, boot id] of the guest's console. */
  private static String[] guest(Path console) {
    GuestConsole.Count last = GuestConsole.last(console);
    return last == null ? new String[] {"", ""} : new String[] {"CNT " + last.n(), last.boot()};
  }

  private static List<VmEvent> journal(ActorSystem<?> system, String vm) {
    CassandraReadJournal journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    return await(journal.currentEventsByPersistenceId("Vm|" + vm, 0, Long.MAX_VALUE).map(e -> (VmEvent) e.event())
        .runWith(Sink.seq(), system));
  }


}
