package io.ferry.controlplane.batch;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Slurm, through its commands: {@code sbatch} submits a script that runs the agent and passes
 * {@code --signal=B:USR1@lead} on to it, {@code squeue --json} reports state and
 * end time of every job at once (it ignores {@code -j}, so jobs are picked by id here), {@code
 * scancel} cancels and warns, {@code scontrol update TimeLimit} moves an end. Tested against Slurm
 * 22.05.
 *
 * @param slurmConf the {@code SLURM_CONF} to use, or {@code null} for the system's
 * @param scriptDir where job scripts and their output are written
 */
public record SlurmBatchSystem(Path slurmConf, Path scriptDir, Duration commandTimeout) implements BatchSystem {

  @Override
  public String name() {
    return "slurm";
  }

  private BatchCommands commands() {
    String conf = "SLURM_CONF=" + (slurmConf == null ? "the system's" : slurmConf);
    return new BatchCommands(slurmConf == null ? Map.of() : Map.of("SLURM_CONF", slurmConf.toString()), commandTimeout,
        "is Slurm running? ops/slurm.sh start; scontrol ping; " + conf
            + "; ferry.timeslots.slurm.command-timeout sets how long a command may take",
        "install slurm-client or run ops/slurm.sh start");
  }

  @Override
  public String submit(JobSpec job) {
    StringBuilder text = new StringBuilder("""
        #!/bin/bash
        # Ferry timeslot job: runs the node agent, passes Slurm's signals on to it (the expiry warning
        # USR1 goes to this shell only), and once the agent has ended, however it ended, kills what is
        # left of the job's process group: its QEMUs. So no VM outlives its job's agent, even where
        # Slurm tracks processes by parentage (proctrack/linuxproc loses a QEMU whose agent was killed).
        """);
    text.append(BatchCommands.exports(job.environment()));
    // the traps come first: Slurm's warning may come at once (its timing is coarse); one before the
    // agent runs is dropped, as the control plane marks the timeslot expiring by its end anyway
    text.append("""
        trap '[ -n "${agent:-}" ] && kill -USR1 $agent 2>/dev/null' USR1
        trap '[ -n "${agent:-}" ] && kill -TERM $agent 2>/dev/null' TERM INT
        """);
    text.append(BatchCommands.commandLine(job.command())).append(" &\n");
    text.append("""
        agent=$!
        status=0
        while kill -0 $agent 2>/dev/null; do wait $agent; status=$?; done
        for p in $(pgrep -g $$); do [ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null; done
        exit $status
        """);
    Path script = BatchCommands.writeScript(scriptDir, job.name(), text.toString());
    List<String> sbatch = new ArrayList<>(List.of("sbatch", "--parsable", "-J", job.name(), "-N", "1",
        "-t", minutes(job.request().walltime()), "--mem=" + job.request().memoryMiB(), "-c", String.valueOf(job.request().cores()),
        "--signal=B:USR1@" + Math.max(1, job.warningLead().getSeconds()),
        "-o", scriptDir.resolve(job.name() + ".out").toString()));
    if (!job.request().partition().isEmpty()) sbatch.addAll(List.of("-p", job.request().partition()));
    sbatch.add(script.toString());
    String out = commands().run(sbatch, "submitting " + job.name()).trim();
    String id = out.contains(";") ? out.substring(0, out.indexOf(';')) : out;
    if (!id.matches("\\d+")) throw new BatchException("sbatch answered '" + out + "' instead of a job id");
    return id;
  }

  /** Slurm's time limits are whole minutes: a walltime is rounded up. */
  private static String minutes(Duration walltime) {
    return String.valueOf(Math.max(1, (walltime.getSeconds() + 59) / 60));
  }

  @Override
  public Map<String, JobStatus> statuses(Collection<String> jobIds) {
    String what = "reading job" + (jobIds.size() == 1 ? " " + jobIds.iterator().next() : "s " + jobIds);
    JsonNode answer;
    try {
      answer = ApiJson.MAPPER.readTree(commands().run(List.of("squeue", "--json"), what));
    } catch (IOException e) {
      throw new BatchException("squeue --json gave output that is not JSON: " + e.getMessage(), e);
    }
    // With slurmctld unreachable, squeue --json exits 0 with an empty job list and the failure in
    // "errors": that must not read as "the job is gone" (it would end every timeslot).
    JsonNode errors = answer.path("errors");
    if (errors.isArray() && !errors.isEmpty()) {
      JsonNode first = errors.get(0);
      throw new BatchException(what + ": squeue could not read Slurm's jobs: " + first.path("description").asText("")
          + " (" + first.path("source").asText("") + ": " + first.path("error").asText("") + "; " + commands().whenDown() + ")");
    }
    // squeue ignores -j with --json: one listing serves every job asked for
    Map<String, JobStatus> found = new LinkedHashMap<>();
    for (JsonNode j : answer.path("jobs")) {
      String jobId = String.valueOf(j.path("job_id").asLong());
      if (jobIds.contains(jobId)) found.put(jobId, status(jobId, j));
    }
    Map<String, JobStatus> result = new LinkedHashMap<>();
    for (String jobId : jobIds) {
      result.put(jobId, found.getOrDefault(jobId, new JobStatus(jobId, JobState.GONE, null, null, null, "Slurm no longer lists job " + jobId)));
    }
    return result;
  }

  private static JobStatus status(String jobId, JsonNode j) {
    JobState state;
    try {
      state = JobState.valueOf(j.path("job_state").asText("UNKNOWN"));
    } catch (IllegalArgumentException e) {
      state = JobState.UNKNOWN; // a state Ferry does not know (for example SUSPENDED): treated as not ended
    }
    String node = j.path("nodes").asText("");
    long start = j.path("start_time").asLong(0);
    long end = j.path("end_time").asLong(0);
    boolean started = state != JobState.PENDING && start > 0;
    return new JobStatus(jobId, state, node.isEmpty() ? null : node, started ? Instant.ofEpochSecond(start) : null,
        started && end > 0 ? Instant.ofEpochSecond(end) : null, j.path("state_reason").asText(""));
  }

  @Override
  public void cancel(String jobId) {
    commands().run(List.of("scancel", jobId), "cancelling job " + jobId);
  }

  @Override
  public void moveEnd(String jobId, Duration walltime) {
    commands().run(List.of("scontrol", "update", "JobId=" + jobId, "TimeLimit=" + minutes(walltime)), "moving the end of job " + jobId);
  }

  @Override
  public void warn(String jobId) {
    commands().run(List.of("scancel", "--batch", "--signal=USR1", jobId), "warning job " + jobId);
  }

  /** For tests: a Slurm reached through this SLURM_CONF, job files in {@code scriptDir}. */
  public static SlurmBatchSystem at(Path slurmConf, Path scriptDir) {
    return new SlurmBatchSystem(slurmConf, scriptDir, Duration.ofSeconds(30));
  }
}
