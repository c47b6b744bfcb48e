package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentCommand.*;
import io.ferry.journal.agent.AgentLookup;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.vm.VmSpec;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.SuspendOutcome;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.VmStatus;
import io.ferry.nodeagent.driver.VmLaunch;
import io.ferry.nodeagent.driver.VmExit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
  private record Done(String vmId, Runnable apply) {}

  /** A QEMU of this node ended ({@link HypervisorDriver#whenExited}). */
  private record QemuExited(String vmId, String instance, VmExit exit) {}

  /** The batch system's early-warning signal (USR1) reached this process. */
  record Warned() {}

  private final ActorContext<Object> context;
  private final AgentSettings settings;
  private final HypervisorDriver driver;
  private final ExecutorService pool;
  private final HandleStore handles;
  private final Map<String, VmHandle> running = new HashMap<>();
  /** The targets of migrations towards this node. */
  private final TargetMigrations incoming;
  /** The source of each migration in flight from here, so that a stop can cancel it. */
  private final Map<String, VmHandle> migrating = new HashMap<>();
  private final VmQueue queue = new VmQueue();
  /** The last outcome per VM that left this node, repeated if the same attempt's command comes again. */
  private final Map<String, AgentReport.Outcome> departed = new HashMap<>();
  /** How each VM whose QEMU ended by itself ended, for the commands that still come for it. */
  private final Map<String, String> exited = new HashMap<>();
  /** Handles of QEMUs that are alive but could not be re-attached (yet): never deleted while they live. */
  private final Map<String, VmHandle> stranded = new HashMap<>();

  private NodeAgentActor(ActorContext<Object> context, AgentSettings settings, HypervisorDriver driver, ExecutorService pool) {
    this.context = context;
    this.settings = settings;
    this.driver = driver;
    this.pool = pool;
    this.handles = new HandleStore(settings.stateDir().resolve("handles"));
    this.incoming = new TargetMigrations(settings, driver, this::work, running::containsKey, this::keep, context.getLog());
  }

  static Behavior<Object> create(AgentSettings settings, HypervisorDriver driver, ExecutorService pool) {
    return Behaviors.setup(context -> new NodeAgentActor(context, settings, driver, pool).start());
  }

  private Behavior<Object> start() {
    for (VmHandle saved : handles.all()) reattach(saved);
    context.getSystem().receptionist().tell(Receptionist.register(AgentCommand.serviceKey(settings.nodeId()), self()));
    context.spawn(Registration.create(settings, driver, self()), "registration");
    return Behaviors.receive(Object.class)
        .onMessage(Done.class, d -> {
          d.apply.run();
          AgentCommand next = queue.end(d.vmId());
          if (next != null) onCommand(next);
          return Behaviors.same();
        })
        .onMessage(QemuExited.class, this::onExit)
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

  /**
   * Takes over a QEMU left running by an earlier agent process. A handle is deleted only when its
   * QEMU is known gone; one whose QEMU lives but does not answer (yet) is kept and tried again
   * when the VM's entity asks ({@link AttachVm}).
   */
  private boolean reattach(VmHandle saved) {
    try {
      VmHandle handle = driver.reattach(saved);
      stranded.remove(saved.vmId());
      running.put(saved.vmId(), handle);
      watch(handle);
      context.getLog().info("VM {}: re-attached to the VM left running by an earlier agent", saved.vmId());
      return true;
    } catch (RuntimeException e) {
      if (saved.pid() > 0 && ProcessHandle.of(saved.pid()).map(ProcessHandle::isAlive).orElse(false)) {
        stranded.put(saved.vmId(), saved);
        context.getLog().warn("VM {}: its QEMU (pid {}) lives but could not be re-attached: {}; its handle is kept and"
            + " re-attaching is tried again when its entity asks", saved.vmId(), saved.pid(), e.getMessage());
      } else {
        context.getLog().warn("VM {}: not re-attached: {}", saved.vmId(), e.getMessage());
        handles.delete(saved.vmId());
      }
      return false;
    }
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
    tellGateway(new AgentReport.TimeslotWarning(settings.timeslotId(), settings.nodeId()));
  }

  /** Sends an unasked report to a control member's gateway, found through the receptionist. */
  private void tellGateway(AgentReport report) {
    AskPattern.<Receptionist.Command, Receptionist.Listing>ask(context.getSystem().receptionist(),
            r -> Receptionist.find(AgentReport.GATEWAY_KEY, r), Duration.ofSeconds(5), context.getSystem().scheduler())
        .whenComplete((listing, error) -> {
          var gateway = error == null ? listing.getServiceInstances(AgentReport.GATEWAY_KEY).stream().findFirst() : java.util.Optional.<ActorRef<AgentReport>>empty();
          if (gateway.isPresent()) gateway.get().tell(report);
          else context.getLog().warn("no control member's gateway is reachable to tell it {}; its entity learns it when it next asks", report);
        });
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
    if (queue.busy(command.vmId())) {
      if (command instanceof StopVm && migrating.containsKey(command.vmId())) {
        context.getLog().info("VM {}: stop requested during its migration: cancelling the migration first", command.vmId());
        driver.cancelMigration(migrating.get(command.vmId()));
      }
      queue.hold(command);
      return Behaviors.same();
    }
    if (command instanceof StartVm c) start(c);
    else if (command instanceof MigrateVm c) migrate(c);
    else if (command instanceof SuspendVm c) suspend(c);
    else if (command instanceof ResumeVm c) resume(c);
    else if (command instanceof StopVm c) stop(c);
    else if (command instanceof AgentCommand.AttachVm c) attach(c);
    else if (command instanceof PrepareIncoming c) incoming.prepare(c);
    else if (command instanceof ConfirmIncoming c) incoming.confirm(c);
    else if (command instanceof AbortIncoming c) incoming.abort(c);
    return Behaviors.same();
  }

  static VmLaunch launch(String vmId, VmSpec spec) {
    return new VmLaunch(vmId, Math.max(1, spec.flavour().vcpus()), spec.flavour().memoryMiB(), spec.image());
  }

  /** Runs a blocking driver step on the pool; {@code then} runs on the actor with its result or error. */
  <T> void work(String vmId, Supplier<T> step, java.util.function.BiConsumer<T, Throwable> then) {
    queue.begin(vmId);
    CompletableFuture.supplyAsync(step, pool).whenComplete((result, error) ->
        context.getSelf().tell(new Done(vmId, () -> then.accept(result, error == null ? null : unwrap(error)))));
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
  }

  private void start(StartVm c) {
    if (running.containsKey(c.vmId())) {
      c.replyTo().tell(new AgentReport.Started(c.vmId(), c.attempt(), settings.nodeId()));
      return;
    }
    String refused = settings.notOurs(c.vmId(), c.timeslotId());
    if (refused != null) {
      context.getLog().warn(refused);
      c.replyTo().tell(new AgentReport.StartFailed(c.vmId(), c.attempt(), refused));
      return;
    }
    exited.remove(c.vmId());
    c.replyTo().tell(new AgentReport.Starting(c.vmId(), c.attempt(), settings.nodeId()));
    work(c.vmId(), () -> driver.start(launch(c.vmId(), c.spec())), (handle, error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.StartFailed(c.vmId(), c.attempt(), error.getMessage()));
        return;
      }
      keep(handle);
      c.replyTo().tell(new AgentReport.Started(c.vmId(), c.attempt(), settings.nodeId()));
    });
  }

  /**
   * Kills every QEMU of this node at once (SIGKILL; no QMP, which may hang) and forgets them, so
   * that no later agent re-attaches: this node's VMs are restarted elsewhere by the control plane.
   * Targets waiting for incoming migrations and QEMUs that could not be re-attached go too.
   */
  private int fence(String why) {
    int killed = 0;
    Map<String, VmHandle> all = new HashMap<>(stranded);
    all.putAll(running);
    incoming.waiting().forEach(h -> all.put(h.vmId() + "/incoming", h));
    for (VmHandle handle : all.values()) {
      boolean gone = ProcessHandle.of(handle.pid()).map(ProcessHandle::destroyForcibly).orElse(false);
      if (handle.pid() <= 0) driver.stop(handle);
      handles.delete(handle.vmId());
      if (gone || handle.pid() <= 0) killed++;
    }
    context.getLog().error("fenced ({}): killed {} of {} QEMUs: {}", why, killed, all.size(), all.keySet());
    running.clear();
    incoming.forgetAll();
    stranded.clear();
    return killed;
  }

  private void attach(AgentCommand.AttachVm c) {
    VmHandle handle = running.get(c.vmId());
    if (handle == null && stranded.containsKey(c.vmId())) {
      VmHandle saved = stranded.get(c.vmId());
      work(c.vmId(), () -> saved, (s, e) -> {
        if (reattach(saved)) attach(c);
        else c.replyTo().tell(stranded.containsKey(c.vmId())
            ? new AgentReport.Attached(c.vmId(), settings.nodeId(), saved.pid())
            : new AgentReport.NotRunning(c.vmId(), settings.nodeId(), "its QEMU (pid " + saved.pid() + ") has exited"));
      });
      return;
    }
    if (handle == null) {
      String how = exited.get(c.vmId());
      c.replyTo().tell(new AgentReport.NotRunning(c.vmId(), settings.nodeId(), how != null ? how : "this agent runs no QEMU of it"));
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
    exited.remove(handle.vmId());
    handles.save(handle);
    watch(handle);
  }

  /** Waits for the QEMU's end: one that was not the driver's own doing is reported at once. */
  private void watch(VmHandle handle) {
    driver.whenExited(handle).whenComplete((exit, error) -> {
      VmExit how = error == null ? exit : new VmExit(false, "its QEMU could not be watched: " + error.getMessage());
      context.getSelf().tell(new QemuExited(handle.vmId(), handle.instance(), how));
    });
  }

  private Behavior<Object> onExit(QemuExited e) {
    VmHandle handle = running.get(e.vmId());
    if (e.exit().deliberate() || handle == null || !handle.instance().equals(e.instance())) return Behaviors.same();
    context.getLog().error("VM {}: {}", e.vmId(), e.exit().description());
    running.remove(e.vmId());
    handles.delete(e.vmId());
    exited.put(e.vmId(), e.exit().description());
    tellGateway(new AgentReport.Exited(e.vmId(), settings.nodeId(), e.exit().description()));
    return Behaviors.same();
  }

  private void forget(String vmId, AgentReport.Outcome outcome) {
    running.remove(vmId);
    handles.delete(vmId);
    departed.put(vmId, outcome);
  }

  /** The outcome already reached for this attempt, if the VM left this node in it. */
  private AgentReport.Outcome already(String vmId, String attempt) {
    AgentReport.Outcome earlier = departed.get(vmId);
    return earlier != null && java.util.Objects.equals(earlier.attempt(), attempt) ? earlier : null;
  }

  /** Why a VM that should run here does not: it exited by itself, or it never ran here. */
  private String notHere(String vmId) {
    String how = exited.get(vmId);
    return how != null ? "VM " + vmId + "'s QEMU on node " + settings.nodeId() + " has ended: " + how
        : "VM " + vmId + " does not run on node " + settings.nodeId();
  }

  private void migrate(MigrateVm c) {
    AgentReport.Outcome earlier = already(c.vmId(), c.attempt());
    if (earlier != null) {
      c.replyTo().tell(earlier);
      return;
    }
    VmHandle source = running.get(c.vmId());
    if (source == null) {
      c.replyTo().tell(new AgentReport.MigrationFailed(c.vmId(), c.attempt(), notHere(c.vmId()), false));
      return;
    }
    queue.begin(c.vmId());
    migrating.put(c.vmId(), source);
    SourceMigration migration = new SourceMigration(context.getSystem(), driver, pool, settings, c, source);
    migration.run().whenComplete((report, error) -> context.getSelf().tell(new Done(c.vmId(), () -> {
      migrating.remove(c.vmId());
      AgentReport.Outcome result = error == null ? report
          : new AgentReport.MigrationFailed(c.vmId(), c.attempt(), "migration to node " + c.targetNodeId() + " failed: "
              + rootMessage(error), false);
      if (result instanceof AgentReport.Migrated || (result instanceof AgentReport.MigrationFailed f && f.guestLost())) {
        forget(c.vmId(), result);
      }
      c.replyTo().tell(result);
    })));
  }

  private Path suspendFile(String file) {
    Path p = Path.of(file);
    return p.isAbsolute() ? p : settings.sharedDir().resolve("suspend").resolve(p);
  }

  private void suspend(SuspendVm c) {
    AgentReport.Outcome earlier = already(c.vmId(), c.attempt());
    if (earlier != null) {
      c.replyTo().tell(earlier);
      return;
    }
    VmHandle handle = running.get(c.vmId());
    if (handle == null) {
      c.replyTo().tell(new AgentReport.SuspendFailed(c.vmId(), c.attempt(), notHere(c.vmId())));
      return;
    }
    work(c.vmId(), () -> driver.suspend(handle, suspendFile(c.file())), (SuspendOutcome saved, Throwable error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.SuspendFailed(c.vmId(), c.attempt(), error.getMessage()));
        return;
      }
      AgentReport.Outcome done = new AgentReport.Suspended(c.vmId(), c.attempt(), saved.file(), saved.bytes());
      forget(c.vmId(), done);
      c.replyTo().tell(done);
    });
  }

  private void resume(ResumeVm c) {
    if (running.containsKey(c.vmId())) {
      c.replyTo().tell(new AgentReport.Resumed(c.vmId(), c.attempt(), settings.nodeId()));
      return;
    }
    String refused = settings.notOurs(c.vmId(), c.timeslotId());
    if (refused != null) {
      context.getLog().warn(refused);
      c.replyTo().tell(new AgentReport.ResumeFailed(c.vmId(), c.attempt(), refused));
      return;
    }
    exited.remove(c.vmId());
    work(c.vmId(), () -> driver.resumeFrom(launch(c.vmId(), c.spec()), suspendFile(c.file())), (handle, error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.ResumeFailed(c.vmId(), c.attempt(), error.getMessage()));
        return;
      }
      keep(handle);
      c.replyTo().tell(new AgentReport.Resumed(c.vmId(), c.attempt(), settings.nodeId()));
    });
  }

  private void stop(StopVm c) {
    VmHandle handle = running.get(c.vmId());
    if (handle == null && stranded.containsKey(c.vmId())) handle = stranded.remove(c.vmId());
    if (handle == null) {
      if (departed.get(c.vmId()) instanceof AgentReport.Migrated moved) {
        // The stop came while the VM was migrating away and the migration won: stop it where it went.
        context.getLog().info("VM {}: migrated to node {} before the stop; passing the stop on", c.vmId(), moved.targetNodeId());
        AgentLookup.find(context.getSystem(), moved.targetNodeId(), settings.lookupTimeout()).whenComplete((target, error) -> {
          if (error == null) target.tell(c);
          else c.replyTo().tell(new AgentReport.StopFailed(c.vmId(), c.attempt(), "VM " + c.vmId() + " moved to node "
              + moved.targetNodeId() + " whose agent cannot be reached to stop it: " + rootMessage(error)));
        });
        return;
      }
      c.replyTo().tell(new AgentReport.Stopped(c.vmId(), c.attempt()));
      return;
    }
    VmHandle stopping = handle;
    work(c.vmId(), () -> {
      driver.stop(stopping);
      return stopping;
    }, (h, error) -> {
      if (error != null) {
        c.replyTo().tell(new AgentReport.StopFailed(c.vmId(), c.attempt(), error.getMessage()));
        return;
      }
      AgentReport.Outcome done = new AgentReport.Stopped(c.vmId(), c.attempt());
      forget(c.vmId(), done);
      c.replyTo().tell(done);
    });
  }

  static String rootMessage(Throwable error) {
    Throwable t = error;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
