package io.ferry.nodeagent.agent;

import com.typesafe.config.Config;
import io.ferry.journal.node.NodeCapacity;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.qemu.QemuDriver;
import io.ferry.nodeagent.driver.qemu.QemuSettings;
import io.ferry.nodeagent.driver.simulated.SimulatedDriver;
import io.ferry.nodeagent.driver.simulated.SimulatedSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** The agent's settings, read from {@code ferry.agent.*} (see the node agent's reference.conf). */
public record AgentSettings(String nodeId, String hostname, int cores, int memoryMiB, Path stateDir,
    Path sharedDir, String driver, Config config, String timeslotId, String jobId) {

  public static AgentSettings from(Config config) {
    Config c = config.getConfig("ferry.agent");
    String node = c.getString("node-id");
    if (!node.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new IllegalArgumentException("node id '" + node + "' is not valid: use letters, digits, '.', '_', '-' (set ferry.agent.node-id or --node)");
    }
    int cores = c.getInt("cores") > 0 ? c.getInt("cores") : Runtime.getRuntime().availableProcessors();
    long totalMiB = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize() >> 20;
    int memory = c.getInt("memory-mib") > 0 ? c.getInt("memory-mib") : (int) totalMiB;
    String timeslot = c.getString("timeslot-id");
    String job = c.getString("job-id");
    return new AgentSettings(node, c.getString("hostname"), cores, memory, Path.of(c.getString("state-dir")),
        Path.of(c.getString("shared-dir")), c.getString("driver"), c, timeslot.isEmpty() ? null : timeslot, job.isEmpty() ? null : job);
  }

  /** The hypervisor driver the settings name. */
  public HypervisorDriver newDriver() {
    switch (driver) {
      case "qemu":
        Config q = config.getConfig("qemu");
        return new QemuDriver(new QemuSettings(q.getString("binary"), q.getString("qemu-img"), q.getString("accel"),
            Path.of(q.getString("images-dir")), stateDir.resolve("q"), sharedDir, q.getString("migration-host"),
            q.getDuration("qmp-timeout"), q.getDuration("resume-timeout"), q.getDuration("suspend-timeout")));
      case "simulated":
        Config s = config.getConfig("simulated");
        return new SimulatedDriver(new SimulatedSettings(nodeId, s.getBytes("link-bandwidth"), s.getBytes("disk-bandwidth"),
            s.getDuration("downtime").toMillis(), s.getInt("min-memory-mib"), Set.copyOf(s.getStringList("images")),
            s.getDouble("speedup")));
      default:
        throw new IllegalArgumentException("hypervisor driver '" + driver + "' is unknown: use qemu or simulated (ferry.agent.driver)");
    }
  }

  public NodeCapacity capacity(HypervisorDriver d) {
    return new NodeCapacity(cores, memoryMiB, d.capabilities());
  }

  /**
   * Why this agent must not start, resume or receive a VM placed on {@code timeslotId}, or
   * {@code null}: it runs another timeslot's job on the node (a later job, maybe another user's; a
   * command re-sent for a timeslot whose job ended must not squat on it).
   */
  public String notOurs(String vmId, String timeslotId) {
    if (this.timeslotId == null || timeslotId == null || this.timeslotId.equals(timeslotId)) return null;
    return "VM " + vmId + " is placed on timeslot " + timeslotId + ", but this agent of node " + nodeId
        + " runs timeslot " + this.timeslotId + ": not starting it here";
  }

  public Duration lookupTimeout() {
    return config.getDuration("agent-lookup-timeout");
  }
}
