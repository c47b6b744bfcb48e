package io.ferry.nodeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.ferry.journal.agent.AgentCommand;
import io.ferry.journal.agent.AgentReport;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An agent runs one timeslot's job: a start, resume or migration target of a VM placed on another
 * timeslot of the same node (an earlier job's, re-sent after that job ended; maybe another user's) is refused with
 * the reason, and nothing starts. On the simulated driver (no QEMU: what is checked is the agent's
 * decision).
 */
class TimeslotGuardTest {
  private final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private final ExecutorService pool = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
    pool.shutdownNow();
  }

  @Test
  void aStartResumeOrIncomingMigrationForAnotherTimeslotIsRefusedAndOneForItsOwnRuns() throws Exception {
    Path state = Files.createTempDirectory("ferry-guard");
    AgentSettings settings = AgentSettings.from(ConfigFactory.parseString(
            "ferry.agent { node-id = n1, timeslot-id = ts-bob, driver = simulated, state-dir = \"" + state + "\","
                + " shared-dir = \"" + state.resolve("shared") + "\" }")
        .withFallback(ConfigFactory.load()));
    var agent = kit.spawn(NodeAgentActor.create(settings, settings.newDriver(), pool));
    TestProbe<AgentReport> reports = kit.createTestProbe();
    VmSpec spec = new VmSpec("alice", Flavour.TINY, "tiny", VmMode.DYNAMIC);
    int v = AgentCommand.PROTOCOL_VERSION;

    agent.tell(new AgentCommand.StartVm(v, "vm-a", "a2", spec, "ts-alice", reports.ref()));
    AgentReport.StartFailed refused = reports.expectMessageClass(AgentReport.StartFailed.class, Duration.ofSeconds(10));
    assertTrue(refused.reason().contains("placed on timeslot ts-alice")
        && refused.reason().contains("runs timeslot ts-bob"), refused.reason());
    agent.tell(new AgentCommand.ResumeVm(v, "vm-a", "a7", spec, "vm-a.img", "ts-alice", reports.ref()));
    AgentReport.ResumeFailed notResumed = reports.expectMessageClass(AgentReport.ResumeFailed.class, Duration.ofSeconds(10));
    assertTrue(notResumed.reason().contains("runs timeslot ts-bob"), notResumed.reason());

    TestProbe<io.ferry.journal.agent.IncomingReply> incoming = kit.createTestProbe();
    agent.tell(new AgentCommand.PrepareIncoming(v, "vm-c", "a3", spec, "ts-alice", null, incoming.ref()));
    var notPrepared = incoming.expectMessageClass(io.ferry.journal.agent.IncomingReply.Failed.class, Duration.ofSeconds(10));
    assertTrue(notPrepared.reason().contains("placed on timeslot ts-alice")
        && notPrepared.reason().contains("runs timeslot ts-bob"), notPrepared.reason());
    agent.tell(new AgentCommand.PrepareIncoming(v, "vm-c", "a4", spec, "ts-bob", null, incoming.ref()));
    incoming.expectMessageClass(io.ferry.journal.agent.IncomingReply.Ready.class, Duration.ofSeconds(10));

    agent.tell(new AgentCommand.StartVm(v, "vm-b", "a2", spec, "ts-bob", reports.ref()));
    reports.expectMessageClass(AgentReport.Starting.class, Duration.ofSeconds(10));
    AgentReport.Started started = reports.expectMessageClass(AgentReport.Started.class, Duration.ofSeconds(10));
    assertEquals("vm-b", started.vmId());
  }
}
