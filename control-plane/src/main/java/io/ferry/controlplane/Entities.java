package io.ferry.controlplane;

import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

/**
 * Asks the sharded entities from anywhere in the cluster. A rejection completes the stage with a
 * {@code StatusReply.ErrorMessage} carrying the entity's reason; no reply within the timeout
 * completes it with a {@code TimeoutException}.
 */
public final class Entities {
  private final ClusterSharding sharding;
  private final Duration timeout;

  public Entities(ActorSystem<?> system, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
  }

  /**
   * For an ask whose answer nobody waits on: logs a rejection or timeout (at info: the caller's
   * next sweep or tick tries again) instead of swallowing it.
   */
  public static <T> java.util.function.BiConsumer<T, Throwable> logFailure(org.slf4j.Logger log, String what) {
    return (answer, error) -> {
      if (error != null) log.info("{}: not done: {}", what, error.getMessage());
    };
  }

  /** With the timeout of {@code ferry.control.ask-timeout}. */
  public static Entities of(ActorSystem<?> system) {
    return new Entities(system, system.settings().config().getDuration("ferry.control.ask-timeout"));
  }

  public CompletionStage<VmState> vm(String id, Function<ActorRef<StatusReply<VmState>>, Vm.Command> command) {
    return sharding.entityRefFor(Vm.ENTITY_KEY, id).askWithStatus(command::apply, timeout);
  }

  public CompletionStage<TimeslotState> timeslot(String id,
      Function<ActorRef<StatusReply<TimeslotState>>, Timeslot.Command> command) {
    return sharding.entityRefFor(Timeslot.ENTITY_KEY, id).askWithStatus(command::apply, timeout);
  }

  public CompletionStage<io.ferry.journal.policy.PolicyState> policy(String id,
      Function<ActorRef<StatusReply<io.ferry.journal.policy.PolicyState>>, io.ferry.controlplane.entity.Policy.Command> command) {
    return sharding.entityRefFor(io.ferry.controlplane.entity.Policy.ENTITY_KEY, id).askWithStatus(command::apply, timeout);
  }

  public CompletionStage<NodeState> node(String id, Function<ActorRef<StatusReply<NodeState>>, Node.Command> command) {
    return sharding.entityRefFor(Node.ENTITY_KEY, id).askWithStatus(command::apply, timeout);
  }
}
