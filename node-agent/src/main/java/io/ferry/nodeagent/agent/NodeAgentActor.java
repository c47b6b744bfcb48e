package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentCommand.*;
import io.ferry.journal.agent.AgentLookup;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.agent.IncomingReply;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.journal.vm.VmSpec;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.Incoming;
import io.ferry.nodeagent.driver.MigrationListener;
import io.ferry.nodeagent.driver.MigrationOutcome;
import io.ferry.nodeagent.driver.MigrationParams;
import io.ferry.nodeagent.driver.SuspendOutcome;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.VmStatus;
import io.ferry.nodeagent.driver.VmLaunch;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The agent of one node: runs the VMs placed on it through a {@link HypervisorDriver}, and
 * answers the control plane's {@link AgentCommand}s with {@link AgentReport}s. Driver calls block,
 * so they run on a thread pool and their outcome comes back to this actor, which alone changes
 * its bookkeeping. Every command is idempotent: a repeated one is answered from what is known (a
 * VM already running, an outcome already reached) instead of being done twice.
 */
final class NodeAgentActor {
  /** A driver step finished: apply {@code apply} to the bookkeeping, on the actor's thread. */
  private record Done(Runnable apply) {}

  /** The batch system's early-warning signal (USR1) reached this process. */
  record Warned() {}

  private final ActorContext<Object> context;
  private final AgentSettings settings;
  private final HypervisorDriver driver;
  private final ExecutorService pool;
  private final HandleStore handles;
  private final Map<String, VmHandle> running = new HashMap<>();
  private final Map<String, Incoming> incoming = new HashMap<>();
  private final Set<String> busy = new HashSet<>();
  /** The last outcome per VM that left this node, repeated if its command comes again. */
  private final Map<String, AgentReport> departed = new HashMap<>();

  private NodeAgentActor(ActorContext<Object> context, AgentSettings settings, HypervisorDriver driver, ExecutorService pool) {
    this.context = context;
    this.settings = settings;
    this.driver = driver;
    this.pool = pool;
    this.handles = new HandleStore(settings.stateDir().resolve("handles"));
  }

  static Behavior<Object> create(AgentSettings settings, HypervisorDriver driver, ExecutorService pool) {
    return Behaviors.setup(context -> new NodeAgentActor(context, settings, driver, pool).start());
  }

  private Behavior<Object> start() {
    for (VmHandle saved : handles.all()) {
      try {
        running.put(saved.vmId(), driver.reattach(saved));
        context.getLog().info("VM {}: re-attached to the VM left running by an earlier agent", saved.vmId());
      } catch (RuntimeException e) {
        context.getLog().warn("VM {}: not re-attached: {}", saved.vmId(), e.getMessage());
        handles.delete(saved.vmId());
      }
    }
    context.getSystem().receptionist().tell(Receptionist.register(AgentCommand.serviceKey(settings.nodeId()), self()));
    context.spawn(Registration.create(settings, driver, self()), "registration");
    return Behaviors.receive(Object.class)
        .onMessage(Done.class, d -> {
          d.apply.run();
          return Behaviors.same();
        })
        .onMessage(AgentCommand.class, this::onCommand)
        .onMessage(Fence.class, f -> {
          f.replyTo().tell(fence(f.why()));
          return Behaviors.same();
        })
        .onMessage(Warned.class, w -> {
          warnControlPlane();
          return Behaviors.same();
        })
        .build();
  }

  /** Kill every VM of this node now (fencing); answered with how many were killed. */
  public record Fence(String why, ActorRef<Integer> replyTo) {}

  /** Tells a control member's gateway that this timeslot's end is near (the batch system said so). */
  private void warnControlPlane() {
    if (settings.timeslotId() == null) {
      context.getLog().warn("got the batch system's warning signal, but this agent runs in no timeslot");
      return;
    }
    context.getLog().info("the batch system warns that timeslot {} ends soon", settings.timeslotId());
    AskPattern.<Receptionist.Command, Receptionist.Listing>ask(context.getSystem().receptionist(),
            r -> Receptionist.find(AgentReport.GATEWAY_KEY, r), Duration.ofSeconds(5), context.getSystem().scheduler())
        .thenAccept(listing -> listing.getServiceInstances(AgentReport.GATEWAY_KEY).stream().findFirst()
            .ifPresent(g -> g.tell(new AgentReport.TimeslotWarning(settings.timeslotId(), settings.nodeId()))));
  }

  private ActorRef<AgentCommand> self() {
    return context.getSelf().narrow();
  }

  private Behavior<Object> onCommand(AgentCommand command) {
    if (command.version() != AgentCommand.PROTOCOL_VERSION) {
      context.getLog().error("refusing {} for VM {}: protocol version {}, this agent speaks {}",
          command.getClass().getSimpleName(), command.vmId(), command.version(), AgentCommand.PROTOCOL_VERSION);
      return Behaviors.same();
    }
    if (command instanceof StartVm c) start(c);
    else if (command instanceof MigrateVm c) migrate(c);
    else if (command instanceof SuspendVm c) suspend(c);
    else if (command instanceof ResumeVm c) resume(c);
    else if (command instanceof StopVm c) stop(c);
    else if (command instanceof AgentCommand.AttachVm c) attach(c);
    else if (command instanceof PrepareIncoming c) prepareIncoming(c);
    else if (command instanceof ConfirmIncoming c) confirmIncoming(c);
    else if (command instanceof AbortIncoming c) abortIncoming(c);
    return Behaviors.same();
  }

  private static VmLaunch launch(String vmId, VmSpec spec) {
    return new VmLaunch(vmId, Math.max(1, spec.flavour().vcpus()), spec.flavour().memoryMiB(), spec.image());
  }

  /** Runs a blocking driver step on the pool; {@code then} runs on the actor with its result or error. */
  private <T> void work(String vmId, Supplier<T> step, java.util.function.BiConsumer<T, Throwable> then) {
    busy.add(vmId);
    CompletableFuture.supplyAsync(step, pool).whenComplete((result, error) -> context.getSelf().tell(new Done(() -> {
      busy.remove(vmId);
      then.accept(result, error == null ? null : (error.getCause() != null ? error.getCause() : error));
    })));
  }

  private void start(StartVm c) {
    if (running.containsKey(c.vmId())) {
      c.replyTo().tell(new AgentReport.Started(c.vmId(), settings.nodeId()));
      return;
    }
    if (busy.contains(c.vmId())) return;
    c.replyTo().tell(new AgentReport.Starting(c.vmId(), settings.nodeId()));
    work(c.vmId(), () -> driver.start(launch(c.vmId(), c.spec())), (handle, error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.StartFailed(c.vmId(), error.getMessage()));
        return;
      }
      keep(handle);
      c.replyTo().tell(new AgentReport.Started(c.vmId(), settings.nodeId()));
    });
  }

  /**
   * Kills every QEMU of this node at once (SIGKILL; no QMP, which may hang) and forgets them, so
   * that no later agent re-attaches: this node's VMs are restarted elsewhere by the control plane.
   */
  private int fence(String why) {
    int killed = 0;
    for (VmHandle handle : running.values()) {
      boolean gone = ProcessHandle.of(handle.pid()).map(ProcessHandle::destroyForcibly).orElse(false);
      if (handle.pid() <= 0) driver.stop(handle);
      handles.delete(handle.vmId());
      if (gone || handle.pid() <= 0) killed++;
    }
    context.getLog().error("fenced ({}): killed {} of {} QEMUs: {}", why, killed, running.size(), running.keySet());
    running.clear();
    return killed;
  }

  private void attach(AgentCommand.AttachVm c) {
    if (busy.contains(c.vmId())) return; // the work in progress reports its own outcome
    VmHandle handle = running.get(c.vmId());
    if (handle == null) {
      c.replyTo().tell(new AgentReport.NotRunning(c.vmId(), settings.nodeId(), "this agent runs no QEMU of it"));
      return;
    }
    work(c.vmId(), () -> driver.inspect(handle), (status, error) -> {
      if (error == null && status != VmStatus.GONE) {
        c.replyTo().tell(new AgentReport.Attached(c.vmId(), settings.nodeId(), handle.pid()));
      } else {
        c.replyTo().tell(new AgentReport.NotRunning(c.vmId(), settings.nodeId(), error != null
            ? "its QEMU (pid " + handle.pid() + ") does not answer: " + error.getMessage()
            : "its QEMU (pid " + handle.pid() + ") has exited"));
      }
    });
  }

  private void keep(VmHandle handle) {
    running.put(handle.vmId(), handle);
    departed.remove(handle.vmId());
    handles.save(handle);
  }

  private void forget(String vmId, AgentReport outcome) {
    running.remove(vmId);
    handles.delete(vmId);
    departed.put(vmId, outcome);
  }

  private static MigrationParams params(MigrationSettings s) {
    MigrationSettings m = s == null ? MigrationSettings.DEFAULT : s;
    return new MigrationParams(m.maxBandwidthBytesPerSec(), m.downtimeLimitMs(), m.postCopy(), m.autoConverge(), m.deadline());
  }

  private void migrate(MigrateVm c) {
    AgentReport earlier = departed.get(c.vmId());
    if (earlier instanceof AgentReport.Migrated) {
      c.replyTo().tell(earlier);
      return;
    }
    VmHandle source = running.get(c.vmId());
    if (source == null) {
      c.replyTo().tell(new AgentReport.MigrationFailed(c.vmId(), "VM " + c.vmId() + " does not run on node " + settings.nodeId()));
      return;
    }
    if (busy.contains(c.vmId())) return;
    busy.add(c.vmId());
    MigrationParams params = params(c.settings());
    ActorRef<MigrationProgress> watcher = c.progressTo();
    MigrationListener listener = watcher == null ? MigrationListener.NONE
        : (percent, sent, left) -> watcher.tell(new MigrationProgress(c.vmId(), percent, sent, left));
    Duration ask = Duration.ofSeconds(60);
    findAgent(c.targetNodeId())
        .thenCompose(target -> AskPattern.<AgentCommand, IncomingReply>ask(target,
                replyTo -> new PrepareIncoming(AgentCommand.PROTOCOL_VERSION, c.vmId(), c.spec(), c.settings(), replyTo),
                ask, context.getSystem().scheduler())
            .thenCompose(ready -> {
              if (!(ready instanceof IncomingReply.Ready r)) {
                return CompletableFuture.completedFuture(new AgentReport.MigrationFailed(c.vmId(),
                    "the target node " + c.targetNodeId() + " could not prepare: " + ((IncomingReply.Failed) ready).reason()));
              }
              return CompletableFuture.supplyAsync(() -> driver.migrate(source, r.uri(), params, listener), pool)
                  .thenCompose(outcome -> finish(c, target, outcome));
            }))
        .whenComplete((report, error) -> context.getSelf().tell(new Done(() -> {
          busy.remove(c.vmId());
          AgentReport result = error == null ? report
              : new AgentReport.MigrationFailed(c.vmId(), "migration to node " + c.targetNodeId() + " failed: " + rootMessage(error));
          if (result instanceof AgentReport.Migrated) forget(c.vmId(), result);
          c.replyTo().tell(result);
        })));
  }

  private CompletionStage<AgentReport> finish(MigrateVm c, ActorRef<AgentCommand> target, MigrationOutcome outcome) {
    if (!outcome.completed()) {
      target.tell(new AbortIncoming(AgentCommand.PROTOCOL_VERSION, c.vmId()));
      return CompletableFuture.completedFuture(new AgentReport.MigrationFailed(c.vmId(), outcome.failure()));
    }
    return AskPattern.<AgentCommand, IncomingReply>ask(target,
            replyTo -> new ConfirmIncoming(AgentCommand.PROTOCOL_VERSION, c.vmId(), replyTo),
            Duration.ofSeconds(60), context.getSystem().scheduler())
        .thenApply(confirmed -> confirmed instanceof IncomingReply.Confirmed
            ? new AgentReport.Migrated(c.vmId(), c.targetNodeId(),
                new MigrationStats(outcome.totalMs(), outcome.downtimeMs(), outcome.transferredBytes()))
            : new AgentReport.MigrationFailed(c.vmId(), "the migration finished but the target does not run the guest: "
                + ((IncomingReply.Failed) confirmed).reason()));
  }

  private CompletionStage<ActorRef<AgentCommand>> findAgent(String nodeId) {
    return AgentLookup.find(context.getSystem(), nodeId, settings.lookupTimeout());
  }

  private void prepareIncoming(PrepareIncoming c) {
    Incoming known = incoming.get(c.vmId());
    if (known != null) {
      c.replyTo().tell(new IncomingReply.Ready(c.vmId(), known.uri()));
      return;
    }
    if (running.containsKey(c.vmId())) {
      c.replyTo().tell(new IncomingReply.Failed(c.vmId(), "VM " + c.vmId() + " already runs on node " + settings.nodeId()));
      return;
    }
    work(c.vmId(), () -> driver.prepareIncoming(launch(c.vmId(), c.spec()), params(c.settings())), (in, error) -> {
      if (error != null) {
        c.replyTo().tell(new IncomingReply.Failed(c.vmId(), error.getMessage()));
        return;
      }
      incoming.put(c.vmId(), in);
      c.replyTo().tell(new IncomingReply.Ready(c.vmId(), in.uri()));
    });
  }

  private void confirmIncoming(ConfirmIncoming c) {
    Incoming in = incoming.get(c.vmId());
    if (in == null) {
      c.replyTo().tell(running.containsKey(c.vmId()) ? new IncomingReply.Confirmed(c.vmId())
          : new IncomingReply.Failed(c.vmId(), "no migration of VM " + c.vmId() + " is expected on node " + settings.nodeId()));
      return;
    }
    work(c.vmId(), () -> driver.awaitIncoming(in, Duration.ofSeconds(30)), (handle, error) -> {
      incoming.remove(c.vmId());
      if (error != null) {
        c.replyTo().tell(new IncomingReply.Failed(c.vmId(), error.getMessage()));
        return;
      }
      keep(handle);
      c.replyTo().tell(new IncomingReply.Confirmed(c.vmId()));
    });
  }

  private void abortIncoming(AbortIncoming c) {
    Incoming in = incoming.remove(c.vmId());
    if (in != null) pool.execute(() -> driver.stop(in.handle()));
  }

  private Path suspendFile(String file) {
    Path p = Path.of(file);
    return p.isAbsolute() ? p : settings.sharedDir().resolve("suspend").resolve(p);
  }

  private void suspend(SuspendVm c) {
    AgentReport earlier = departed.get(c.vmId());
    if (earlier instanceof AgentReport.Suspended) {
      c.replyTo().tell(earlier);
      return;
    }
    VmHandle handle = running.get(c.vmId());
    if (handle == null) {
      c.replyTo().tell(new AgentReport.SuspendFailed(c.vmId(), "VM " + c.vmId() + " does not run on node " + settings.nodeId()));
      return;
    }
    if (busy.contains(c.vmId())) return;
    work(c.vmId(), () -> driver.suspend(handle, suspendFile(c.file())), (SuspendOutcome saved, Throwable error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.SuspendFailed(c.vmId(), error.getMessage()));
        return;
      }
      AgentReport done = new AgentReport.Suspended(c.vmId(), saved.file(), saved.bytes());
      forget(c.vmId(), done);
      c.replyTo().tell(done);
    });
  }

  private void resume(ResumeVm c) {
    if (running.containsKey(c.vmId())) {
      c.replyTo().tell(new AgentReport.Resumed(c.vmId(), settings.nodeId()));
      return;
    }
    if (busy.contains(c.vmId())) return;
    work(c.vmId(), () -> driver.resumeFrom(launch(c.vmId(), c.spec()), suspendFile(c.file())), (handle, error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.ResumeFailed(c.vmId(), error.getMessage()));
        return;
      }
      keep(handle);
      c.replyTo().tell(new AgentReport.Resumed(c.vmId(), settings.nodeId()));
    });
  }

  private void stop(StopVm c) {
    VmHandle handle = running.get(c.vmId());
    if (handle == null) {
      c.replyTo().tell(new AgentReport.Stopped(c.vmId()));
      return;
    }
    if (busy.contains(c.vmId())) return;
    work(c.vmId(), () -> {
      driver.stop(handle);
      return handle;
    }, (h, error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.StopFailed(c.vmId(), error.getMessage()));
        return;
      }
      AgentReport done = new AgentReport.Stopped(c.vmId());
      forget(c.vmId(), done);
      c.replyTo().tell(done);
    });
  }

  private static String rootMessage(Throwable error) {
    Throwable t = error;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
