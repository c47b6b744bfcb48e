package io.ferry.controlplane.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.batch.BatchSystem.JobState;
import io.ferry.controlplane.batch.BatchSystem.JobStatus;
import io.ferry.journal.testing.Eventually;
import io.ferry.journal.timeslot.TimeslotRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Grid Engine backend against the real single-host Grid Engine that ops/gridengine.sh runs
 * (ops/test starts it): queue ferry.q, 8 slots, notify 20 s.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GridEngineBatchSystemIT extends BatchSystemContract {
  /** The queue's notify time that ops/gridengine.sh sets: the warning comes this long before the end. */
  static final Duration NOTIFY = Duration.ofSeconds(20);

  Path dir;
  GridEngineBatchSystem ge;

  @BeforeAll
  void find() throws Exception {
    if (!Files.exists(Path.of("/var/lib/gridengine/default/common/act_qmaster"))) {
      throw new IllegalStateException("no Grid Engine cell at /var/lib/gridengine/default: run ops/gridengine.sh start (ops/test does)");
    }
    dir = Files.createTempDirectory(Path.of("/tmp"), "ferry-ge");
    ge = GridEngineBatchSystem.at(dir, Map.of(), Duration.ofSeconds(30));
  }

  @Override
  BatchSystem batch() {
    return ge;
  }

  @Override
  Path shared() {
    return dir;
  }

  @Override
  BatchSystem down() {
    // the clients look for the qmaster on a port where nothing listens
    return GridEngineBatchSystem.at(dir, Map.of("SGE_QMASTER_PORT", "1"), Duration.ofSeconds(30));
  }

  @Override
  String downSays() {
    return "is Grid Engine running?";
  }

  @Override
  TimeslotRequest refused() {
    return new TimeslotRequest(1, 256, Duration.ofMinutes(1), "no-such.q");
  }

  @Override
  String refusalSays() {
    return "Grid Engine has no queue 'no-such.q' (its queues: ferry.q";
  }

  @Override
  boolean movesRunningEnds() {
    return false;
  }

  /** Grid Engine's own warning, at h_rt = walltime − notify: 3 s after the start. */
  @Override
  Duration warnedWalltime() {
    return NOTIFY.plusSeconds(3);
  }

  @Override
  void warnNow(String jobId) {
    BatchException error = assertThrows(BatchException.class, () -> ge.warn(jobId));
    assertTrue(error.getMessage().contains("no command that sends job " + jobId + " its warning early"), error.getMessage());
  }

  @Test
  void aJobThatCanNeverRunIsRefusedAtOnce() {
    var spec = job(dir.resolve("x"), Duration.ofMinutes(1));
    var huge = new BatchSystem.JobSpec(spec.name(), new TimeslotRequest(64, 256, Duration.ofMinutes(1), ""), spec.warningLead(),
        spec.command(), spec.environment());
    BatchException error = assertThrows(BatchException.class, () -> ge.submit(huge));
    assertTrue(error.getMessage().contains("no suitable queues"), error.getMessage());
  }

  @Test
  void aWalltimeNoLongerThanTheNotifyTimeIsRefused() {
    BatchException error = assertThrows(BatchException.class, () -> ge.submit(job(dir.resolve("y"), NOTIFY)));
    assertTrue(error.getMessage().contains("too short for Grid Engine queue ferry.q: its notify time"), error.getMessage());
  }

  @Test
  void aJobEndsAtItsWalltimeAndItsAgentsSessionWithIt() throws Exception {
    Path marker = dir.resolve("end-" + UUID.randomUUID());
    // the "agent" leaves a child behind, as an agent leaves its QEMUs
    var spec = new BatchSystem.JobSpec("ferry-test-end", request(NOTIFY.plusSeconds(2)), Duration.ofSeconds(30),
        java.util.List.of("/bin/bash", "-c", "sleep 1000 & echo $! > " + marker + "; trap '' USR1; while true; do sleep 0.2; done"),
        Map.of());
    String id = ge.submit(spec);
    JobStatus ended = Eventually.await("job " + id + " to reach its walltime", Duration.ofSeconds(90), Duration.ofMillis(300),
        () -> ge.status(id), s -> s.state() == JobState.TIMEOUT);
    // Grid Engine enforces h_rt on its load-report beat: the kill comes up to a few seconds late
    Duration lasted = Duration.between(ended.start(), ended.end());
    assertTrue(lasted.compareTo(NOTIFY.plusSeconds(2)) >= 0 && lasted.compareTo(NOTIFY.plusSeconds(6)) <= 0, "ended at its walltime: " + ended);
    long child = Long.parseLong(Files.readString(marker).trim());
    await("the agent's child to die with the job", () -> ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
  }
}
