package io.ferry.controlplane.hosting;

import io.ferry.controlplane.agents.AgentGateway;
import io.ferry.controlplane.agents.ReceptionistAgentLink;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.agent.AgentReport;
import io.ferry.nodeagent.agent.AgentMemberPlugin;
import io.ferry.nodeagent.agent.AgentSettings;
import java.time.Clock;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * Makes an agent member host the Vm entities of the VMs its node runs (found by the agent through
 * {@code META-INF/services}; {@code bin/ferry-agent} runs with the control plane on its class
 * path). The member takes part in the Vm entities' sharding, reaches the Timeslot and Node entities
 * through proxies (they live on control members), and has a gateway of its own for the reports of
 * the agents its entities command. Off with {@code ferry.agent.host-vm-entities = off}.
 */
public final class VmHostingPlugin implements AgentMemberPlugin {
  @Override
  public java.util.Set<String> roles(com.typesafe.config.Config config) {
    return config.getBoolean("ferry.agent.host-vm-entities") ? java.util.Set.of(config.getString("ferry.control.vm-host-role"))
        : java.util.Set.of();
  }

  @Override
  public void start(ActorContext<?> guardian, AgentSettings settings, ActorRef<Object> agent) {
    ActorSystem<?> system = guardian.getSystem();
    var config = system.settings().config();
    if (!config.getBoolean("ferry.agent.host-vm-entities")) return;
    String control = config.getString("ferry.control.role");
    Clock clock = Clock.systemUTC();
    Timeslot.init(system, control, clock, null); // a proxy here: this member lacks the role
    Node.init(system, control, clock);
    ActorRef<AgentReport> gateway = guardian.spawn(AgentGateway.create(false), "agent-gateway");
    Vm.init(system, clock, new ReceptionistAgentLink(system, gateway, config.getDuration("ferry.agent.agent-lookup-timeout")));
  }
}
