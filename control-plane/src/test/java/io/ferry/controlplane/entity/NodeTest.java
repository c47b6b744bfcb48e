package io.ferry.controlplane.entity;

import static io.ferry.controlplane.entity.EntityTestSupport.CLOCK;
import static io.ferry.controlplane.entity.EntityTestSupport.assertRejected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.ferry.controlplane.entity.Node.*;
import io.ferry.journal.node.NodeCapacity;
import io.ferry.journal.node.NodeEvent;
import io.ferry.journal.node.NodeState;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(EntityTestSupport.config()).build();

  static final NodeCapacity CAPACITY = new NodeCapacity(16, 65536, Set.of("qemu", "accel:tcg"));
  static final String AGENT = "pekko://ferry@127.0.0.1:25521";
  static final String AGENT_MEMBER = AGENT;
  private final Set<Class<?>> persisted = new HashSet<>();

  private EventSourcedBehaviorTestKit<Command, NodeEvent, NodeState> node() {
    return EventSourcedBehaviorTestKit.create(testKit.system(), Node.create("n-" + UUID.randomUUID(), CLOCK));
  }

  private StatusReply<NodeState> run(EventSourcedBehaviorTestKit<Command, NodeEvent, NodeState> node,
      Function<ActorRef<StatusReply<NodeState>>, Command> command) {
    var result = node.runCommand(command);
    result.events().forEach(e -> persisted.add(e.getClass()));
    return result.reply();
  }

  private EventSourcedBehaviorTestKit<Command, NodeEvent, NodeState> joined() {
    var node = node();
    assertInstanceOf(NodeState.Joined.class, run(node, r -> new RegisterNode("host1", CAPACITY, AGENT, r)).getValue());
    return node;
  }

  @Test
  void aNodeJoinsBecomesUnreachableComesBackAndLeaves() {
    var node = joined();
    assertEquals(node.getState(), run(node, r -> new RegisterNode("host1", CAPACITY, AGENT, r)).getValue(), "idempotent");
    assertInstanceOf(NodeState.Unreachable.class, run(node, MarkUnreachable::new).getValue());
    assertInstanceOf(NodeState.Joined.class, run(node, MarkReachable::new).getValue());
    assertInstanceOf(NodeState.Left.class, run(node, MarkLeft::new).getValue());
    assertEquals(node.getState(), node.restart().state());
    var rejoined = run(node, r -> new RegisterNode("host1", CAPACITY, AGENT + "2", r)).getValue();
    assertEquals(AGENT + "2", rejoined.facts().agentAddress());
  }

  @Test
  void aDownedAgentFencesAndItsNodeMayJoinAgain() {
    var node = joined();
    run(node, MarkUnreachable::new);
    assertInstanceOf(NodeState.Lost.class, run(node, r -> new MarkLost(AGENT_MEMBER, "downed by the split brain resolver", r)).getValue());
    assertInstanceOf(NodeState.Fenced.class, run(node, r -> new MarkFenced(3, r)).getValue());
    assertInstanceOf(NodeState.Joined.class, run(node, r -> new RegisterNode("host1", CAPACITY, AGENT, r)).getValue());
    assertEquals(node.getState(), node.restart().state());
  }

  @Test
  void theLossOfAnEarlierAgentDoesNotMarkANewAgentsNodeLost() {
    // found by ops/chaos: a new job's agent registered on the node before the control side
    // recorded its predecessor's loss, which then made the new agent's node Lost for good
    var node = joined();
    run(node, MarkUnreachable::new);
    run(node, r -> new RegisterNode("host1", CAPACITY, "pekko://ferry@127.0.0.1:1/user/agent", r));
    var after = run(node, r -> new MarkLost(AGENT_MEMBER, "downed by the split brain resolver", r)).getValue();
    assertInstanceOf(NodeState.Joined.class, after, "the new agent's node stays Joined");
    assertEquals("pekko://ferry@127.0.0.1:1/user/agent", after.facts().agentAddress());
    assertInstanceOf(NodeState.Lost.class,
        run(node, r -> new MarkLost("pekko://ferry@127.0.0.1:1", "downed by the split brain resolver", r)).getValue(),
        "the loss of the agent that registered it is recorded");
  }

  @Test
  void aRestartedAgentTakesItsNodeOver() {
    var node = joined();
    run(node, MarkUnreachable::new);
    var again = run(node, r -> new RegisterNode("host1", CAPACITY, "pekko://ferry@127.0.0.1:1", r)).getValue();
    assertInstanceOf(NodeState.Joined.class, again);
    assertEquals("pekko://ferry@127.0.0.1:1", again.facts().agentAddress());
  }

  @Test
  void illegalTransitionsAreRejectedWithTheStage() {
    assertRejected(run(node(), MarkUnreachable::new), "does not exist", "MarkUnreachable needs it Joined");
    var left = joined();
    run(left, MarkLeft::new);
    assertRejected(run(left, MarkReachable::new), "is Left", "needs it Unreachable");
  }

  @AfterAll
  void everyEventTypeWasPersistedBySomeTest() {
    Set<Class<?>> missing = new HashSet<>(Set.of(NodeEvent.class.getPermittedSubclasses()));
    missing.removeAll(persisted);
    assertEquals(Set.of(), missing, "event types no test persisted");
  }
}
