package io.ferry.controlplane.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.batch.BatchSystem.JobSpec;
import io.ferry.controlplane.batch.BatchSystem.JobState;
import io.ferry.controlplane.batch.BatchSystem.JobStatus;
import io.ferry.journal.testing.Eventually;
import io.ferry.journal.timeslot.TimeslotRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** What every batch backend must do; run against real Slurm and the local backend. */
abstract class BatchSystemContract {
  abstract BatchSystem batch();

  /** Where job and test can both write (same machine here). */
  abstract Path shared();

  /** A request that fits one of the backend's nodes. */
  TimeslotRequest request(Duration walltime) {
    return new TimeslotRequest(1, 256, walltime, "");
  }

  /**
   * A job that writes {@code marker}.started once its trap is set, {@code marker} when it gets
   * USR1, and otherwise runs until stopped.
   */
  JobSpec job(Path marker, Duration walltime) {
    String script = "trap 'echo warned > " + marker + "' USR1; echo up > " + marker + ".started; while true; do sleep 0.2; done";
    return new JobSpec("ferry-test-" + UUID.randomUUID().toString().substring(0, 8), request(walltime), Duration.ofSeconds(30),
        List.of("/bin/bash", "-c", script), Map.of("FERRY_TIMESLOT", "test"));
  }

  static <T> T await(String what, Supplier<T> read, Predicate<T> done) {
    return Eventually.await(what, Duration.ofSeconds(60), Duration.ofMillis(200), read, done);
  }


  @Test
  void aJobRunsOnANodeUntilItsEndGetsItsWarningAndIsCancelled() throws Exception {
    Path marker = shared().resolve("warned-" + UUID.randomUUID());
    String id = batch().submit(job(marker, Duration.ofMinutes(5)));
    JobStatus running = await("job " + id + " to run", () -> batch().status(id), s -> s.state() == JobState.RUNNING);
    assertNotNull(running.node());
    assertNotNull(running.start());
    assertEquals(Duration.ofMinutes(5), Duration.between(running.start(), running.end()), "end = start + walltime");
    try {
      // "running" can come before the job's script runs: warn once its trap is set
      await("the job's script to start", () -> Files.exists(Path.of(marker + ".started")), done -> done);
      batch().warn(id);
      await("the job to get USR1", () -> Files.exists(marker), done -> done);
    } finally {
      batch().cancel(id);
    }
    JobStatus ended = await("job " + id + " to end", () -> batch().status(id), s -> s.state().ended());
    assertTrue(ended.state() == JobState.CANCELLED || ended.state() == JobState.GONE, ended.toString());
    batch().cancel(id); // cancelling an ended job is fine
  }
}
