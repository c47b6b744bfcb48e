package io.ferry.nodeagent.agent;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * More that an agent member hosts besides its node agent, found with {@link java.util.ServiceLoader}
 * on the agent's class path. The control plane provides one that hosts the Vm entities of the VMs
 * this node runs (so an entity lives where its QEMU runs); the agent itself does not depend on it.
 */
public interface AgentMemberPlugin {
  /** Cluster roles the member takes on for this plugin (read before the member starts). */
  default java.util.Set<String> roles(com.typesafe.config.Config config) {
    return java.util.Set.of();
  }

  /**
   * Called once in the agent member's guardian, after the node agent started.
   *
   * @param guardian the member's guardian, for spawning actors
   * @param settings the agent's settings (on a member hosting several nodes: the member's own)
   * @param agent    the node agent (it accepts {@code AgentCommand}s); {@code null} on a member that
   *                 hosts the agents of several nodes
   */
  void start(ActorContext<?> guardian, AgentSettings settings, ActorRef<Object> agent);
}
