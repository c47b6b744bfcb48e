package io.ferry.controlplane.batch;

import io.ferry.journal.timeslot.TimeslotRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A batch system that grants timeslots, declared where timeslots are scheduled. {@link
 * SlurmBatchSystem} drives a real Slurm, {@link GridEngineBatchSystem} a real Grid Engine; {@link
 * LocalBatchSystem} runs agents as local processes for machines without one. Calls block briefly
 * (a command or two); failures are {@link BatchException}s saying what the batch system said and
 * what to do. Every backend passes the same contract suite ({@code BatchSystemContract} in the
 * tests); {@code docs/batch-backends.md} says how to add one.
 */
public interface BatchSystem {
  /** The backend's name, as timeslots record it ("slurm", "local"). */
  String name();

  /** Submits one job for a timeslot and returns its job id. */
  String submit(JobSpec job);

  /** What the job is doing now. */
  default JobStatus status(String jobId) {
    return statuses(List.of(jobId)).get(jobId);
  }

  /**
   * What each of the jobs is doing now, read at once (one query of the batch system, not one per
   * job: the keeper reads every followed job on every tick). Every id asked for has an entry; an
   * id the backend does not know is {@link JobState#GONE} or {@link JobState#UNKNOWN}. A batch
   * system that cannot be read is a {@link BatchException}, never a list of gone jobs.
   */
  Map<String, JobStatus> statuses(Collection<String> jobIds);

  /**
   * Moves a running job's end: its walltime becomes {@code walltime} from its start (Slurm rounds
   * up to whole minutes). A backend that cannot move a running job's end says so with a
   * {@link BatchException} and changes nothing.
   */
  void moveEnd(String jobId, Duration walltime);

  /** Cancels the job (its processes get SIGTERM, then SIGKILL). Cancelling an ended job is a no-op. */
  void cancel(String jobId);

  /**
   * Sends the job's early-warning signal now, as the batch system would at end − lead (the agent
   * gets USR1). A backend whose batch system has no command for that says so with a
   * {@link BatchException}.
   */
  void warn(String jobId);

  /**
   * One job: run {@code command} (the agent) on one node with the request's resources for its
   * walltime; the batch system signals USR1 {@code warningLead} before the end.
   */
  record JobSpec(String name, TimeslotRequest request, Duration warningLead, List<String> command,
      Map<String, String> environment) {}

  /** A job's state as the batch system reports it; node, start and end are null until known. */
  record JobStatus(String jobId, JobState state, String node, Instant start, Instant end, String reason) {}

  enum JobState {
    PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, NODE_FAIL,
    /** The batch system no longer lists the job (it ended and was purged from its records): over, how is not known. */
    GONE,
    /** A state Ferry does not know, or a job id the backend never had: not taken as ended. */
    UNKNOWN;

    /** Whether the job is over; COMPLETING (its processes are being killed) is not yet. */
    public boolean ended() {
      return this != PENDING && this != RUNNING && this != COMPLETING && this != UNKNOWN;
    }
  }
}
