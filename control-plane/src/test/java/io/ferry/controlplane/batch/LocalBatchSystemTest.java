package io.ferry.controlplane.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.batch.BatchSystem.JobSpec;
import io.ferry.controlplane.batch.BatchSystem.JobState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import io.ferry.journal.timeslot.TimeslotRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local backend: real processes, with the walltime and warning enforced by Ferry. */
class LocalBatchSystemTest extends BatchSystemContract {
  @TempDir Path dir;
  private LocalBatchSystem batch;

  @Override
  BatchSystem batch() {
    if (batch == null) batch = new LocalBatchSystem(dir.resolve("logs"), Clock.systemUTC());
    return batch;
  }

  @Override
  Path shared() {
    return dir;
  }

  @Override
  BatchSystem down() {
    LocalBatchSystem closed = new LocalBatchSystem(dir.resolve("closed"), Clock.systemUTC());
    closed.close();
    return closed;
  }

  @Override
  String downSays() {
    return "with its control member";
  }

  @Override
  TimeslotRequest refused() {
    return new TimeslotRequest(1, 256, Duration.ofMinutes(1), "gpu");
  }

  @Override
  String refusalSays() {
    return "has no partitions";
  }

  @Override
  boolean movesRunningEnds() {
    return true;
  }

  @AfterEach
  void close() {
    if (batch != null) batch.close();
  }

  @Test
  void theWarningComesAtEndMinusLeadAndTheJobEndsAtItsWalltime() {
    Path marker = dir.resolve("warned");
    JobSpec spec = new JobSpec("short", request(Duration.ofSeconds(3)), Duration.ofSeconds(2),
        List.of("/bin/bash", "-c", "trap 'echo warned > " + marker + "' USR1; while true; do sleep 0.1; done"), Map.of());
    String id = batch().submit(spec);
    await("the warning", () -> Files.exists(marker), done -> done);
    var ended = await("the walltime", () -> batch().status(id), s -> s.state().ended());
    assertEquals(JobState.TIMEOUT, ended.state());
    assertTrue(ended.node().startsWith("local"));
  }
}
