package io.ferry.controlplane.batch;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Slurm, through its commands: {@code sbatch} submits a script that {@code exec}s the agent (so
 * the agent itself receives {@code --signal=B:USR1@lead}), {@code squeue --json} reports state and
 * end time (it ignores {@code -j}, so jobs are picked by id here), {@code scancel} cancels and
 * warns. Tested against Slurm 22.05.
 *
 * @param slurmConf the {@code SLURM_CONF} to use, or {@code null} for the system's
 * @param scriptDir where job scripts and their output are written
 */
public record SlurmBatchSystem(Path slurmConf, Path scriptDir, Duration commandTimeout) implements BatchSystem {

  @Override
  public String name() {
    return "slurm";
  }

  @Override
  public String submit(JobSpec job) {
    if (!job.name().matches("[A-Za-z0-9._-]+")) throw new BatchException("job name '" + job.name() + "' must be letters, digits, '.', '_', '-'");
    Path script = scriptDir.resolve(job.name() + ".sh");
    StringBuilder text = new StringBuilder("""
        #!/bin/bash
        # Ferry timeslot job: runs the node agent, passes Slurm's signals on to it (the expiry warning
        # USR1 goes to this shell only), and once the agent has ended, however it ended, kills what is
        # left of the job's process group: its QEMUs. So no VM outlives its job's agent, even where
        # Slurm tracks processes by parentage (proctrack/linuxproc loses a QEMU whose agent was killed).
        """);
    for (var e : job.environment().entrySet()) text.append("export ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
    // the traps come first: Slurm's warning may come at once (its timing is coarse); one before the
    // agent runs is dropped, as the control plane marks the timeslot expiring by its end anyway
    text.append("""
        trap '[ -n "${agent:-}" ] && kill -USR1 $agent 2>/dev/null' USR1
        trap '[ -n "${agent:-}" ] && kill -TERM $agent 2>/dev/null' TERM INT
        """);
    for (String arg : job.command()) text.append(quote(arg)).append(' ');
    text.append("""
        &
        agent=$!
        status=0
        while kill -0 $agent 2>/dev/null; do wait $agent; status=$?; done
        for p in $(pgrep -g $$); do [ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null; done
        exit $status
        """);
    try {
      Files.createDirectories(scriptDir);
      Files.writeString(script, text);
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException e) {
      throw new BatchException("cannot write the job script " + script + ": " + e.getMessage(), e);
    }
    long minutes = Math.max(1, (job.request().walltime().getSeconds() + 59) / 60);
    List<String> sbatch = new ArrayList<>(List.of("sbatch", "--parsable", "-J", job.name(), "-N", "1",
        "-t", String.valueOf(minutes), "--mem=" + job.request().memoryMiB(), "-c", String.valueOf(job.request().cores()),
        "--signal=B:USR1@" + Math.max(1, job.warningLead().getSeconds()),
        "-o", scriptDir.resolve(job.name() + ".out").toString()));
    if (!job.request().partition().isEmpty()) sbatch.addAll(List.of("-p", job.request().partition()));
    sbatch.add(script.toString());
    String out = run(sbatch, "submitting " + job.name()).trim();
    String id = out.contains(";") ? out.substring(0, out.indexOf(';')) : out;
    if (!id.matches("\\d+")) throw new BatchException("sbatch answered '" + out + "' instead of a job id");
    return id;
  }

  @Override
  public JobStatus status(String jobId) {
    JsonNode answer;
    try {
      answer = ApiJson.MAPPER.readTree(run(List.of("squeue", "--json"), "reading job " + jobId));
    } catch (IOException e) {
      throw new BatchException("squeue --json gave output that is not JSON: " + e.getMessage(), e);
    }
    // With slurmctld unreachable, squeue --json exits 0 with an empty job list and the failure in
    // "errors": that must not read as "the job is gone" (it would end every timeslot).
    JsonNode errors = answer.path("errors");
    if (errors.isArray() && !errors.isEmpty()) {
      JsonNode first = errors.get(0);
      throw new BatchException("reading job " + jobId + ": squeue could not read Slurm's jobs: " + first.path("description").asText("")
          + " (" + first.path("source").asText("") + ": " + first.path("error").asText("") + "; is Slurm running? scontrol ping; SLURM_CONF="
          + (slurmConf == null ? "the system's" : slurmConf) + ")");
    }
    JsonNode jobs = answer.path("jobs");
    for (JsonNode j : jobs) {
      if (!String.valueOf(j.path("job_id").asLong()).equals(jobId)) continue;
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
    return new JobStatus(jobId, JobState.GONE, null, null, null, "Slurm no longer lists job " + jobId);
  }

  @Override
  public void cancel(String jobId) {
    run(List.of("scancel", jobId), "cancelling job " + jobId);
  }

  @Override
  public void warn(String jobId) {
    run(List.of("scancel", "--batch", "--signal=USR1", jobId), "warning job " + jobId);
  }

  private String run(List<String> command, String what) {
    ProcessBuilder pb = new ProcessBuilder(command);
    if (slurmConf != null) pb.environment().put("SLURM_CONF", slurmConf.toString());
    try {
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(commandTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new BatchException(what + ": " + command.get(0) + " did not finish within " + commandTimeout.toSeconds()
            + " s (is slurmctld running and answering? scontrol ping tells; ferry.timeslots.slurm.command-timeout sets the limit)");
      }
      if (p.exitValue() != 0) {
        throw new BatchException(what + " failed: " + (err.isEmpty() ? command.get(0) + " exited with " + p.exitValue() : err)
            + (err.contains("contact") || err.contains("Connection refused") || err.contains("timed out")
                ? " (is Slurm running? ops/slurm.sh start; scontrol ping; SLURM_CONF="
                + (slurmConf == null ? "the system's" : slurmConf) + ")" : ""));
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BatchException(what + ": cannot run " + command.get(0) + " (" + e.getMessage() + "); install slurm-client or run ops/slurm.sh start", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BatchException(what + " was interrupted", e);
    }
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /** For tests: a Slurm reached through this SLURM_CONF, job files in {@code scriptDir}. */
  public static SlurmBatchSystem at(Path slurmConf, Path scriptDir) {
    return new SlurmBatchSystem(slurmConf, scriptDir, Duration.ofSeconds(30));
  }
}
