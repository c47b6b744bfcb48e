package io.ferry.controlplane.entity;

import static io.ferry.controlplane.entity.EntityTestSupport.CLOCK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.ferry.controlplane.agents.AgentLink;
import io.ferry.controlplane.entity.Vm.Command;
import io.ferry.journal.Cause;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The level-triggered re-drive ({@code ferry.control.redrive-interval}, 300 ms here): a VM whose
 * stage waits for an agent sends the stage's command again, with the same attempt, until the
 * agent's report moves it on; a re-drive that cannot reach the agent fails nothing.
 */
@ExtendWith(TestKitJUnit5Extension.class)
class VmRedriveTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(
      ConfigFactory.parseString("ferry.control.redrive-interval = 300ms").withFallback(EntityTestSupport.config())).build();

  static final VmSpec SPEC = new VmSpec("alice", Flavour.TINY, "debian-tiny", VmMode.DYNAMIC);
  static final Cause USER = Cause.user("alice");

  /** Records what is sent; while {@code reachable} is false, every send finds no agent. */
  static final class Link implements AgentLink {
    final List<AgentCommand> sent = new CopyOnWriteArrayList<>();
    volatile boolean reachable = true;

    @Override
    public void send(String nodeId, AgentCommand command, Consumer<String> onUnreachable) {
      if (!reachable) {
        onUnreachable.accept("no agent of node " + nodeId + " is in the cluster");
        return;
      }
      sent.add(command);
    }

    @Override
    public ActorRef<AgentReport> reportsTo() {
      return null;
    }
  }

  private final Link link = new Link();

  private EventSourcedBehaviorTestKit<Command, VmEvent, VmState> vm() {
    return EventSourcedBehaviorTestKit.create(testKit.system(), Vm.create("vm-" + UUID.randomUUID(), CLOCK, link));
  }

  private static VmState run(EventSourcedBehaviorTestKit<Command, VmEvent, VmState> vm,
      java.util.function.Function<ActorRef<org.apache.pekko.pattern.StatusReply<VmState>>, Command> command) {
    var reply = vm.<org.apache.pekko.pattern.StatusReply<VmState>>runCommand(command::apply).reply();
    assertTrue(reply.isSuccess(), String.valueOf(reply));
    return reply.getValue();
  }

  private void awaitSends(int count) {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(5), Duration.ofMillis(50), () -> {
      assertTrue(link.sent.size() >= count, "sent " + link.sent.size() + " commands, waiting for " + count);
      return null;
    });
  }

  @Test
  void aStartWhoseCommandWasLostIsSentAgainWithTheSameAttemptUntilTheAgentAnswers() {
    var vm = vm();
    run(vm, r -> new Vm.CreateVm(SPEC, USER, r));
    VmState placed = run(vm, r -> new Vm.PlaceVm(new Placement("slot-a", "node-a"), USER, r));
    String attempt = placed.facts().attempt();
    assertEquals(1, link.sent.size(), "the first StartVm");
    awaitSends(3); // the agent never answered: two re-drives
    for (AgentCommand c : link.sent) {
      AgentCommand.StartVm start = assertInstanceOf(AgentCommand.StartVm.class, c);
      assertEquals(attempt, start.attempt(), "every re-drive carries the placement's attempt");
    }
    run(vm, r -> new Vm.ReportStarting(attempt, r));
    VmState running = run(vm, r -> new Vm.ReportStarted(attempt, r));
    assertInstanceOf(VmState.Running.class, running);
    int after = link.sent.size();
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(1000)); // more than three intervals
    assertEquals(after, link.sent.size(), "a Running VM is not re-driven");
  }

  @Test
  void aRedriveThatCannotReachTheAgentFailsNothing() {
    var vm = vm();
    run(vm, r -> new Vm.CreateVm(SPEC, USER, r));
    run(vm, r -> new Vm.PlaceVm(new Placement("slot-a", "node-a"), USER, r));
    VmState placed = vm.getState();
    link.reachable = false;
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(1000)); // three re-drives find no agent
    assertInstanceOf(VmState.Placed.class, vm.getState(), "the start may be going on at an agent out of reach");
    link.reachable = true;
    awaitSends(2);
    assertEquals(placed.facts().attempt(), ((AgentCommand.StartVm) link.sent.get(link.sent.size() - 1)).attempt());
  }
}
