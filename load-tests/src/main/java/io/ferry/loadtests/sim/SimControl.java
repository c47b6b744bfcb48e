package io.ferry.loadtests.sim;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.controlplane.ControlPlane;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.pekko.actor.typed.ActorSystem;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A control member of a simulated cluster, in a JVM of its own so that its heap and CPU can be
 * told apart from the simulated agents' and the load generator's: the real control plane (real
 * Cassandra journal) with the {@link SimulatedBatchSystem} as backend {@code sim}. It prints
 * {@code ready seed=HOST:PORT api=URL} once up, then every second a {@code sample} line (heap used,
 * heap live after the last old-generation collection, process CPU time) and every 5 s a
 * {@code batch} line; it stops when its standard input closes. Started by {@code ops/bench scale}.
 */
@Command(name = "sim-control", mixinStandardHelpOptions = true,
    description = "Runs a control member with a simulated batch system (load tests; started by ops/bench scale).")
public final class SimControl implements Callable<Integer> {
  @Option(names = "--nodes", defaultValue = "50", description = "nodes of the simulated cluster (default: ${DEFAULT-VALUE})")
  int nodes;

  @Option(names = "--grant-delay", defaultValue = "5s", description = "least time from a job's submission to its start (default: ${DEFAULT-VALUE})")
  String grantDelay;

  @Option(names = "--scarcity", defaultValue = "0.2", description = "share of nodes held by other users (default: ${DEFAULT-VALUE})")
  double scarcity;

  @Option(names = "--keyspace", required = true, description = "the journal's keyspace")
  String keyspace;

  @Option(names = "--users-file", required = true, description = "the API's users file")
  Path usersFile;

  @Option(names = "--warning-lead", defaultValue = "60s", description = "ferry.timeslots.warning-lead (default: ${DEFAULT-VALUE})")
  String warningLead;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "any other setting (HOCON), repeatable")
  List<String> settings = List.of();

  public static void main(String[] args) {
    System.exit(new CommandLine(new SimControl()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Config overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        .withValue("ferry.cassandra.keyspace", ConfigValueFactory.fromAnyRef(keyspace))
        .withValue("ferry.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("ferry.api.users-file", ConfigValueFactory.fromAnyRef(usersFile.toString()))
        .withValue("ferry.api.default-backend", ConfigValueFactory.fromAnyRef("sim"))
        .withValue("ferry.timeslots.warning-lead", ConfigValueFactory.fromAnyRef(warningLead));
    for (String s : settings) overrides = ConfigFactory.parseString(s).withFallback(overrides);
    SimulatedBatchSystem batch = new SimulatedBatchSystem(
        new SimulatedBatchSystem.Settings(nodes, Duration.parse("PT" + grantDelay.toUpperCase()), scarcity), Clock.systemUTC());
    ActorSystem<Void> system = ControlPlane.start(ControlPlane.config(overrides), List.of(batch));
    batch.attach(system);
    var self = system.address();
    String api = "http:/" + ControlPlane.api(system).toCompletableFuture().join().localAddress();
    System.out.println("ready seed=" + self.getHost().get() + ":" + self.getPort().get() + " api=" + api);
    System.out.flush();
    Thread sampler = new Thread(() -> sample(batch), "sampler");
    sampler.setDaemon(true);
    sampler.start();
    CountDownLatch stdinClosed = new CountDownLatch(1);
    Thread watcher = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {
          // nothing to read; waiting for the end of input
        }
      } catch (java.io.IOException ignored) {
        // closed
      }
      stdinClosed.countDown();
    }, "stdin");
    watcher.setDaemon(true);
    watcher.start();
    stdinClosed.await();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get();
    return 0;
  }

  private static void sample(SimulatedBatchSystem batch) {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    var memory = ManagementFactory.getMemoryMXBean();
    List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null).toList();
    long t0 = System.nanoTime();
    for (int i = 0; ; i++) {
      long live = heapPools.stream().filter(p -> p.getName().contains("Old") || p.getName().contains("Tenured"))
          .mapToLong(p -> p.getCollectionUsage().getUsed()).sum();
      System.out.printf("sample t_ms=%d heap_used=%d heap_live=%d heap_max=%d cpu_ns=%d%n", (System.nanoTime() - t0) / 1_000_000,
          memory.getHeapMemoryUsage().getUsed(), live, memory.getHeapMemoryUsage().getMax(), os.getProcessCpuTime());
      if (i % 5 == 0) System.out.println("batch " + io.ferry.controlplane.api.ApiJson.MAPPER.valueToTree(batch.summary()));
      System.out.flush();
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }
}
