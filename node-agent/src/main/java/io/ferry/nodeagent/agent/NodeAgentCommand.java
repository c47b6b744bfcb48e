package io.ferry.nodeagent.agent;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry-agent}: runs the node agent of one node until it is stopped. */
@Command(name = "ferry-agent", mixinStandardHelpOptions = true, version = "ferry-agent 0.1.0",
    description = "Runs Ferry's node agent: joins the control plane's cluster (role 'agent'), registers"
        + " its node, and runs the VMs placed on it as QEMU processes it keeps as its children. If"
        + " restarted while its VMs run, it re-attaches to them. Options override ferry.agent.* settings.",
    exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:stopped", "2:bad arguments or settings", "4:fenced itself (killed its QEMUs) on the control plane's order or an expired lease"})
public final class NodeAgentCommand implements Callable<Integer> {
  @Option(names = "--node", description = "the node's id (default: ferry.agent.node-id: $FERRY_NODE, or the batch system's node name)")
  String node;

  @Option(names = "--seed", paramLabel = "HOST:PORT", description = "a control member to join; repeatable (default 127.0.0.1:25520)")
  List<String> seeds;

  @Option(names = "--host", description = "address to bind, also for incoming migrations (default 127.0.0.1)")
  String host;

  @Option(names = "--port", description = "cluster port, 0 for any free one (default 0)")
  Integer port;

  @Option(names = "--state-dir", description = "this node's folder for handles, sockets and consoles")
  String stateDir;

  @Option(names = "--shared-dir", description = "storage all nodes see: overlays and suspend files")
  String sharedDir;

  @Option(names = "--images", description = "folder of images (default ~/.ferry/images)")
  String images;

  @Option(names = "--driver", description = "qemu or simulated (default qemu)")
  String driver;

  @Option(names = "--accel", description = "tcg or kvm (default tcg)")
  String accel;

  @Option(names = "--cores", description = "cores Ferry may use (default: all)")
  Integer cores;

  @Option(names = "--split-brain-stable-after", paramLabel = "DURATION",
      description = "the Split Brain Resolver's stable-after; must equal the control members' (default 10s)")
  String stableAfter;

  @Option(names = "--cassandra", paramLabel = "HOST:PORT", description = "Cassandra for the VM entities this member hosts (default 127.0.0.1:9042)")
  String cassandra;

  @Option(names = "--keyspace", description = "the control plane's journal keyspace (default ferry)")
  String keyspace;

  @Option(names = "--memory-mib", description = "memory Ferry may use in MiB (default: all)")
  Integer memory;

  public static void main(String[] args) {
    NodeAgent.catchWarnings(); // first: a short job's warning may come while the agent starts
    System.exit(new CommandLine(new NodeAgentCommand()).execute(args));
  }

  @Override
  public Integer call() {
    Config o = ConfigFactory.empty();
    if (node != null) o = o.withValue("ferry.agent.node-id", ConfigValueFactory.fromAnyRef(node));
    Map<String, Object> optional = new java.util.HashMap<>();
    optional.put("ferry.agent.seed-nodes", seeds);
    optional.put("ferry.agent.bind-host", host);
    optional.put("ferry.agent.port", port);
    optional.put("ferry.agent.state-dir", stateDir);
    optional.put("ferry.agent.shared-dir", sharedDir);
    optional.put("ferry.agent.qemu.images-dir", images);
    optional.put("ferry.agent.driver", driver);
    optional.put("ferry.agent.qemu.accel", accel);
    optional.put("ferry.agent.cores", cores);
    optional.put("ferry.agent.memory-mib", memory);
    optional.put("ferry.agent.split-brain-stable-after", stableAfter);
    optional.put("ferry.cassandra.contact-points", cassandra);
    optional.put("ferry.cassandra.keyspace", keyspace);
    for (var e : optional.entrySet()) {
      if (e.getValue() != null) o = o.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    try {
      return NodeAgent.run(NodeAgent.config(o), system -> System.out.println("ferry-agent of node "
          + system.settings().config().getString("ferry.agent.node-id") + " up: " + system.address()));
    } catch (IllegalArgumentException | io.ferry.nodeagent.driver.HypervisorException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    }
  }
}