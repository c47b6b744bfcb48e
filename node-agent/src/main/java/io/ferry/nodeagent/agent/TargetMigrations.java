package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.AgentCommand.AbortIncoming;
import io.ferry.journal.agent.AgentCommand.ConfirmIncoming;
import io.ferry.journal.agent.AgentCommand.PrepareIncoming;
import io.ferry.journal.agent.IncomingReply;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.Incoming;
import io.ferry.nodeagent.driver.VmHandle;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The target side of live migrations towards this node, the counterpart of
 * {@link SourceMigration}: a QEMU prepared to receive one attempt of a VM's migration, confirmed
 * once the guest runs in it (then it is one of the node's VMs) or stopped when the migration
 * failed. Part of {@link NodeAgentActor}, on its thread; blocking driver steps go through its
 * {@code work}. A target is prepared only in this agent's own timeslot's job, like a start.
 */
final class TargetMigrations {
  /** Runs a blocking step for a VM on the agent's pool; {@code then} runs on the agent's thread. */
  interface Work {
    <T> void run(String vmId, Supplier<T> step, BiConsumer<T, Throwable> then);
  }

  /** A target prepared for an incoming migration of one attempt. */
  private record Awaited(String attempt, Incoming incoming) {}

  private final AgentSettings settings;
  private final HypervisorDriver driver;
  private final Work work;
  private final Predicate<String> runsHere;
  private final Consumer<VmHandle> keep;
  private final Logger log;
  private final Map<String, Awaited> awaited = new HashMap<>();

  TargetMigrations(AgentSettings settings, HypervisorDriver driver, Work work, Predicate<String> runsHere,
      Consumer<VmHandle> keep, Logger log) {
    this.settings = settings;
    this.driver = driver;
    this.work = work;
    this.runsHere = runsHere;
    this.keep = keep;
    this.log = log;
  }

  void prepare(PrepareIncoming c) {
    Awaited known = awaited.get(c.vmId());
    if (known != null && Objects.equals(known.attempt(), c.attempt())) {
      c.replyTo().tell(new IncomingReply.Ready(c.vmId(), known.incoming().uri()));
      return;
    }
    if (runsHere.test(c.vmId())) {
      c.replyTo().tell(new IncomingReply.Failed(c.vmId(), "VM " + c.vmId() + " already runs on node " + settings.nodeId()));
      return;
    }
    String refused = settings.notOurs(c.vmId(), c.timeslotId());
    if (refused != null) {
      log.warn(refused);
      c.replyTo().tell(new IncomingReply.Failed(c.vmId(), refused));
      return;
    }
    if (known != null) {
      awaited.remove(c.vmId());
      log.info("VM {}: dropping the target of attempt {} for attempt {}", c.vmId(), known.attempt(), c.attempt());
    }
    work.run(c.vmId(), () -> {
      if (known != null) driver.stop(known.incoming().handle());
      return driver.prepareIncoming(NodeAgentActor.launch(c.vmId(), c.spec()), SourceMigration.params(c.settings()));
    }, (in, error) -> {
      if (error != null) {
        c.replyTo().tell(new IncomingReply.Failed(c.vmId(), error.getMessage()));
        return;
      }
      awaited.put(c.vmId(), new Awaited(c.attempt(), in));
      c.replyTo().tell(new IncomingReply.Ready(c.vmId(), in.uri()));
    });
  }

  void confirm(ConfirmIncoming c) {
    Awaited target = awaited.get(c.vmId());
    if (target == null || !Objects.equals(target.attempt(), c.attempt())) {
      c.replyTo().tell(target == null && runsHere.test(c.vmId()) ? new IncomingReply.Confirmed(c.vmId())
          : new IncomingReply.Failed(c.vmId(), "no migration of VM " + c.vmId() + " (attempt " + c.attempt()
              + ") is expected on node " + settings.nodeId()));
      return;
    }
    Incoming in = target.incoming();
    work.run(c.vmId(), () -> {
      try {
        return driver.awaitIncoming(in, Duration.ofSeconds(30));
      } catch (RuntimeException e) {
        driver.stop(in.handle()); // a target that did not take over must not start later
        throw e;
      }
    }, (handle, error) -> {
      awaited.remove(c.vmId());
      if (error != null) {
        c.replyTo().tell(new IncomingReply.Failed(c.vmId(), error.getMessage()));
        return;
      }
      keep.accept(handle);
      c.replyTo().tell(new IncomingReply.Confirmed(c.vmId()));
    });
  }

  void abort(AbortIncoming c) {
    Awaited target = awaited.get(c.vmId());
    if (target == null || !Objects.equals(target.attempt(), c.attempt())) return;
    awaited.remove(c.vmId());
    work.run(c.vmId(), () -> {
      driver.stop(target.incoming().handle());
      return null;
    }, (r, e) -> {});
  }

  /** The QEMUs waiting for a migration (fencing kills them with the rest). */
  List<VmHandle> waiting() {
    return awaited.values().stream().map(a -> a.incoming().handle()).toList();
  }

  /** Forgets every waiting target (after fencing killed them). */
  void forgetAll() {
    awaited.clear();
  }
}
