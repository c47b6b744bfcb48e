package io.ferry.controlplane.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.controlplane.batch.BatchSystem.JobSpec;
import io.ferry.controlplane.batch.BatchSystem.JobState;
import io.ferry.controlplane.batch.BatchSystem.JobStatus;
import io.ferry.journal.testing.Eventually;
import io.ferry.journal.timeslot.TimeslotRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * What every batch backend must do, run against the local backend, real Slurm and real Grid
 * Engine (docs/batch-backends.md lists the operations): submit a job that gets a warning before
 * its end, read many jobs at once with state, node, start and end, cancel, move an end where the
 * system allows, and refuse a bad request or report a system that is down with a clear error.
 */
abstract class BatchSystemContract {
  abstract BatchSystem batch();

  /** Where job and test can both write (same machine here). */
  abstract Path shared();

  /** The backend configured for a batch system that does not answer. */
  abstract BatchSystem down();

  /** What the error of a system that is down says (its hint). */
  abstract String downSays();

  /** A request this system refuses, and what its refusal says. */
  abstract TimeslotRequest refused();

  abstract String refusalSays();

  /** Whether the system moves a running job's end (Grid Engine does not). */
  abstract boolean movesRunningEnds();

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

  /**
   * The walltime of the warning test's job and how its warning comes: by default at once through
   * {@link BatchSystem#warn}; a backend without such a command gives a walltime short enough for
   * the batch system's own warning and does nothing here.
   */
  Duration warnedWalltime() {
    return Duration.ofMinutes(5);
  }

  void warnNow(String jobId) {
    batch().warn(jobId);
  }

  static <T> T await(String what, Supplier<T> read, Predicate<T> done) {
    return Eventually.await(what, Duration.ofSeconds(60), Duration.ofMillis(200), read, done);
  }

  JobStatus running(String id) {
    return await("job " + id + " to run", () -> batch().status(id), s -> s.state() == JobState.RUNNING);
  }

  void cancelAndAwaitEnd(String id) {
    batch().cancel(id);
    JobStatus ended = await("job " + id + " to end", () -> batch().status(id), s -> s.state().ended());
    assertTrue(ended.state() == JobState.CANCELLED || ended.state() == JobState.GONE, ended.toString());
  }

  @Test
  void aJobRunsOnANodeUntilItsEndAndIsCancelled() {
    String id = batch().submit(job(shared().resolve("run-" + UUID.randomUUID()), Duration.ofMinutes(5)));
    JobStatus running = running(id);
    assertNotNull(running.node());
    assertNotNull(running.start());
    assertEquals(Duration.ofMinutes(5), Duration.between(running.start(), running.end()), "end = start + walltime");
    cancelAndAwaitEnd(id);
    batch().cancel(id); // cancelling an ended job is fine
  }

  @Test
  void aJobGetsItsWarningBeforeItsEnd() {
    Path marker = shared().resolve("warned-" + UUID.randomUUID());
    String id = batch().submit(job(marker, warnedWalltime()));
    try {
      JobStatus running = running(id);
      // "running" can come before the job's script runs: warn once its trap is set
      await("the job's script to start", () -> Files.exists(Path.of(marker + ".started")), done -> done);
      warnNow(id);
      await("the job to get USR1", () -> Files.exists(marker), done -> done);
      assertTrue(java.time.Instant.now().isBefore(running.end()), "the warning came before the end " + running.end());
    } finally {
      batch().cancel(id);
    }
  }

  @Test
  void manyJobsAreReadAtOnceWithTheirNodesStartsAndEnds() {
    List<String> ids = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) ids.add(batch().submit(job(shared().resolve("many-" + UUID.randomUUID()), Duration.ofMinutes(5))));
      List<String> asked = new ArrayList<>(ids);
      asked.add("999999");
      Map<String, JobStatus> all = await("three jobs running", () -> batch().statuses(asked),
          s -> ids.stream().allMatch(id -> s.get(id).state() == JobState.RUNNING));
      assertEquals(Set.copyOf(asked), all.keySet(), "every id asked for has an entry");
      Set<String> nodes = new HashSet<>();
      for (String id : ids) {
        JobStatus s = all.get(id);
        assertEquals(id, s.jobId());
        nodes.add(s.node());
        assertEquals(Duration.ofMinutes(5), Duration.between(s.start(), s.end()), s.toString());
      }
      assertEquals(3, nodes.size(), "each job on a node of its own: " + all);
      JobState unknown = all.get("999999").state();
      assertTrue(unknown == JobState.GONE || unknown == JobState.UNKNOWN, "a job the system never had: " + unknown);
    } finally {
      for (String id : ids) batch().cancel(id);
    }
  }

  @Test
  void aRunningJobsEndMovesWhereTheSystemAllows() {
    String id = batch().submit(job(shared().resolve("move-" + UUID.randomUUID()), Duration.ofMinutes(5)));
    try {
      JobStatus before = running(id);
      if (movesRunningEnds()) {
        batch().moveEnd(id, Duration.ofMinutes(3));
        JobStatus after = await("the end moved", () -> batch().status(id), s -> !before.end().equals(s.end()));
        assertEquals(before.start().plus(Duration.ofMinutes(3)), after.end());
      } else {
        BatchException error = assertThrows(BatchException.class, () -> batch().moveEnd(id, Duration.ofMinutes(3)));
        assertTrue(error.getMessage().contains("cannot move the end of job " + id), error.getMessage());
        assertEquals(before.end(), batch().status(id).end(), "nothing changed");
      }
    } finally {
      batch().cancel(id);
    }
  }

  @Test
  void aRequestTheSystemRefusesIsAClearErrorAndLeavesNoJob() {
    JobSpec spec = job(shared().resolve("refused"), Duration.ofMinutes(1));
    JobSpec bad = new JobSpec(spec.name(), refused(), spec.warningLead(), spec.command(), spec.environment());
    BatchException error = assertThrows(BatchException.class, () -> batch().submit(bad));
    assertTrue(error.getMessage().contains(refusalSays()), error.getMessage());
    assertNotEquals("", error.getMessage().trim());
  }

  @Test
  void aSystemThatIsDownIsAClearErrorNotAListOfEndedJobs() {
    BatchSystem down = down();
    BatchException submit = assertThrows(BatchException.class, () -> down.submit(job(shared().resolve("down"), Duration.ofMinutes(5))));
    assertTrue(submit.getMessage().contains(downSays()), submit.getMessage());
    // reading must fail, not report the jobs gone: that would end every timeslot
    BatchException read = assertThrows(BatchException.class, () -> down.statuses(List.of("1", "2")));
    assertTrue(read.getMessage().contains(downSays()), read.getMessage());
  }
}
