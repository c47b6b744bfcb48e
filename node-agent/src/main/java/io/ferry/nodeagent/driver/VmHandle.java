package io.ferry.nodeagent.driver;

import java.util.Map;

/**
 * What an agent needs to find a running VM again, saved next to the VM so that a restarted agent
 * can re-attach. Versioned: a driver refuses a handle whose version it does not know rather than
 * guess.
 *
 * @param version    the handle format's version ({@link #CURRENT_VERSION} when written)
 * @param driver     the driver that wrote it
 * @param launch     how the VM was launched
 * @param pid        the hypervisor process, or 0 for a process-less driver
 * @param instance   which incarnation of the VM on this node (a new one per start, incoming, resume)
 * @param attributes driver-specific facts (socket paths, console log, …)
 */
public record VmHandle(int version, String driver, VmLaunch launch, long pid, String instance,
    Map<String, String> attributes) {
  public static final int CURRENT_VERSION = 1;

  public VmHandle {
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
  }

  public String vmId() {
    return launch.vmId();
  }

  public String attribute(String key) {
    String value = attributes.get(key);
    if (value == null) throw new HypervisorException("handle of VM " + vmId() + " has no '" + key + "'");
    return value;
  }
}
