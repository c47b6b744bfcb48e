package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentCommand.AbortIncoming;
import io.ferry.journal.agent.AgentCommand.ConfirmIncoming;
import io.ferry.journal.agent.AgentCommand.MigrateVm;
import io.ferry.journal.agent.AgentCommand.PrepareIncoming;
import io.ferry.journal.agent.AgentLookup;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.agent.IncomingReply;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.vm.MigrationStats;
import io.ferry.nodeagent.driver.HypervisorDriver;
import io.ferry.nodeagent.driver.MigrationListener;
import io.ferry.nodeagent.driver.MigrationOutcome;
import io.ferry.nodeagent.driver.MigrationParams;
import io.ferry.nodeagent.driver.VmHandle;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * One live migration, seen from its source: the target agent prepares a QEMU waiting for the
 * guest, the source's QEMU sends it, the target confirms that it runs the guest, and only then is
 * the (paused) source stopped. Everything carries the attempt of the entity's
 * {@link AgentCommand.MigrateVm}, so a target never mixes two attempts up.
 *
 * <p>How each end is reported: completed and confirmed → {@link AgentReport.Migrated}; not
 * completed before post-copy → the target is aborted, the source runs on; completed but the
 * target says it does not run the guest → the target is stopped and the source resumed (it holds
 * the whole guest: pre-copy sends everything before switching over); post-copy failed, or no
 * answer from the target after completion → the guest is lost (the source stays paused and is
 * stopped): running the source again could make two copies of the VM, or one with stale memory.
 */
final class SourceMigration {
  private static final Duration ASK = Duration.ofSeconds(60);

  private final ActorSystem<?> system;
  private final HypervisorDriver driver;
  private final ExecutorService pool;
  private final AgentSettings settings;
  private final MigrateVm command;
  private final VmHandle source;

  SourceMigration(ActorSystem<?> system, HypervisorDriver driver, ExecutorService pool, AgentSettings settings,
      MigrateVm command, VmHandle source) {
    this.system = system;
    this.driver = driver;
    this.pool = pool;
    this.settings = settings;
    this.command = command;
    this.source = source;
  }

  CompletionStage<AgentReport.Outcome> run() {
    MigrationParams params = params(command.settings());
    ActorRef<MigrationProgress> watcher = command.progressTo();
    var topic = ProgressTopic.of(system);
    MigrationListener listener = (percent, sent, left) -> {
      MigrationProgress progress = new MigrationProgress(command.vmId(), percent, sent, left);
      if (watcher != null) watcher.tell(progress); // whoever asked for the migration
      topic.tell(org.apache.pekko.actor.typed.pubsub.Topic.publish(progress)); // and any control member's watch
    };
    return AgentLookup.find(system, command.targetNodeId(), settings.lookupTimeout())
        .thenCompose(target -> AskPattern.<AgentCommand, IncomingReply>ask(target,
                replyTo -> new PrepareIncoming(AgentCommand.PROTOCOL_VERSION, command.vmId(), command.attempt(),
                    command.spec(), command.targetTimeslotId(), command.settings(), replyTo), ASK, system.scheduler())
            .thenCompose(ready -> {
              if (!(ready instanceof IncomingReply.Ready r)) {
                return CompletableFuture.completedFuture(failed("the target node " + command.targetNodeId()
                    + " could not prepare: " + ((IncomingReply.Failed) ready).reason(), false));
              }
              return CompletableFuture.supplyAsync(() -> driver.migrate(source, r.uri(), params, listener), pool)
                  .handle((outcome, error) -> {
                    if (error == null) return finish(target, outcome);
                    // the source's QEMU failed under the migration (it died, QMP broke): the target's waiting QEMU goes too
                    target.tell(new AbortIncoming(AgentCommand.PROTOCOL_VERSION, command.vmId(), command.attempt()));
                    return CompletableFuture.<AgentReport.Outcome>failedFuture(error);
                  })
                  .thenCompose(f -> f);
            }));
  }

  private CompletionStage<AgentReport.Outcome> finish(ActorRef<AgentCommand> target, MigrationOutcome outcome) {
    if (!outcome.completed()) {
      target.tell(new AbortIncoming(AgentCommand.PROTOCOL_VERSION, command.vmId(), command.attempt()));
      if (outcome.guestLost()) return onPool(() -> driver.stop(source), failed(outcome.failure(), true));
      return CompletableFuture.completedFuture(failed(outcome.failure(), false));
    }
    return AskPattern.<AgentCommand, IncomingReply>ask(target,
            replyTo -> new ConfirmIncoming(AgentCommand.PROTOCOL_VERSION, command.vmId(), command.attempt(), replyTo),
            ASK, system.scheduler())
        .handle((confirmed, error) -> {
          if (confirmed instanceof IncomingReply.Confirmed) {
            return onPool(() -> driver.stop(source), (AgentReport.Outcome) new AgentReport.Migrated(command.vmId(),
                command.attempt(), command.targetNodeId(),
                new MigrationStats(outcome.totalMs(), outcome.downtimeMs(), outcome.transferredBytes())));
          }
          if (confirmed instanceof IncomingReply.Failed f && !outcome.postCopyUsed()) {
            return onPool(() -> driver.resume(source), failed("the migration finished but the target does not run the guest ("
                + f.reason() + "); the target was stopped and the source runs on", false));
          }
          String why = confirmed instanceof IncomingReply.Failed f ? f.reason()
              : "no answer within " + ASK.toSeconds() + " s: " + NodeAgentActor.rootMessage(error);
          target.tell(new AbortIncoming(AgentCommand.PROTOCOL_VERSION, command.vmId(), command.attempt()));
          return onPool(() -> driver.stop(source), failed("the migration finished but the target node "
              + command.targetNodeId() + " did not confirm that it runs the guest (" + why + "); the source was stopped"
              + " rather than resumed, so that the guest can never run twice: the VM has failed", true));
        })
        .thenCompose(f -> f);
  }

  private CompletionStage<AgentReport.Outcome> onPool(Runnable step, AgentReport.Outcome then) {
    return CompletableFuture.runAsync(step, pool).handle((v, e) -> then);
  }

  private AgentReport.Outcome failed(String reason, boolean guestLost) {
    return new AgentReport.MigrationFailed(command.vmId(), command.attempt(), reason, guestLost);
  }

  static MigrationParams params(MigrationSettings s) {
    MigrationSettings m = s == null ? MigrationSettings.DEFAULT : s;
    return new MigrationParams(m.maxBandwidthBytesPerSec(), m.downtimeLimitMs(), m.postCopy(), m.autoConverge(), m.deadline());
  }
}
