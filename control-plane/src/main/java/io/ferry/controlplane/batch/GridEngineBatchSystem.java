package io.ferry.controlplane.batch;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Grid Engine (8.1.9, Debian's {@code gridengine-*}), through its commands rather than DRMAA:
 * {@code qsub} submits (with the control member's environment, {@code -V}, as {@code sbatch} does
 * by default), {@code qstat -xml} reads every running and pending job at once, {@code
 * qacct} reads a job after its end, {@code qdel} cancels. (DRMAA's Java binding, {@code
 * libdrmaa1.0-java}, is a JNI library tied to one installation's {@code libdrmaa.so}, cannot read
 * jobs it did not submit in this session — after a control member restarts, every timeslot's job
 * is such a job — and gives neither start times nor nodes; the commands give all of it, the same
 * way Slurm's do.)
 *
 * <p>The warning before the end is Grid Engine's {@code -notify}: a job with {@code h_rt} gets
 * SIGUSR2 when h_rt is reached and is killed the queue's {@code notify} seconds later (its {@code
 * s_rt}, the documented "warning", killed the job without a catchable signal on these machines).
 * So a timeslot's walltime W is submitted as {@code h_rt = W − notify}: the job ends at start + W
 * and its warning comes {@code notify} seconds before, whatever lead the control member uses (its
 * keeper marks the timeslot expiring at end − {@code ferry.timeslots.warning-lead} on its own).
 *
 * <p>The job script puts the agent in a session of its own: Grid Engine signals the job's process
 * group, and a JVM dies of SIGUSR2 (HotSpot uses it internally). The script turns the SIGUSR2
 * into the agent's USR1, and a watchdog in the agent's session kills the session (agent and
 * QEMUs) once the job's own process is gone — killed at h_rt + notify, by {@code qdel}, or by
 * hand — so no VM outlives its job.
 *
 * <p>A host runs several jobs at once (a queue's slots), each with its own agent: a Ferry node is
 * one job's share of a host, named {@code <host>-job<id>}.
 *
 * <p>Grid Engine does not move the end of a running job ({@code qalter -l h_rt} is accepted and
 * ignored), nor has it a command that sends a job its warning early: {@link #moveEnd} and {@link
 * #warn} say so.
 *
 * <p>Settings ({@code ferry.timeslots.gridengine}): the queue a request without a partition goes
 * to; the parallel environment that gives a job its cores on one host ({@code -pe NAME cores};
 * empty: every job takes one slot); the consumable a job's memory is requested as ({@code -l
 * NAME=…M}; empty: not requested — Grid Engine's {@code h_vmem} limits virtual memory, which a QEMU
 * far exceeds).
 */
public final class GridEngineBatchSystem implements BatchSystem {
  private final String queue;
  private final String parallelEnvironment;
  private final String memoryComplex;
  private final Path scriptDir;
  private final BatchCommands commands;
  private final Map<String, Duration> notifyByQueue = new ConcurrentHashMap<>();

  /**
   * @param sgeRoot     SGE_ROOT of Grid Engine's commands
   * @param sgeCell     SGE_CELL of Grid Engine's commands
   * @param environment more of their environment (for example SGE_QMASTER_PORT); usually empty
   */
  public GridEngineBatchSystem(String sgeRoot, String sgeCell, Map<String, String> environment, String queue,
      String parallelEnvironment, String memoryComplex, Path scriptDir, Duration commandTimeout) {
    this.queue = queue;
    this.parallelEnvironment = parallelEnvironment;
    this.memoryComplex = memoryComplex;
    this.scriptDir = scriptDir;
    Map<String, String> env = new LinkedHashMap<>(environment);
    env.put("SGE_ROOT", sgeRoot);
    env.put("SGE_CELL", sgeCell);
    env.put("TZ", "UTC"); // qstat and qacct print times in the local zone: UTC, so that they parse the same everywhere
    this.commands = new BatchCommands(Map.copyOf(env), commandTimeout,
        "is Grid Engine running? ops/gridengine.sh start; qstat -f; SGE_ROOT=" + sgeRoot + " SGE_CELL=" + sgeCell
            + "; ferry.timeslots.gridengine.command-timeout sets how long a command may take",
        "install gridengine-client or run ops/gridengine.sh start");
  }

  /** How Ferry names the node of a job on {@code host}: the same in the job script and in {@link #statuses}. */
  static String node(String host, String jobId) {
    int dot = host.indexOf('.');
    return (dot > 0 ? host.substring(0, dot) : host) + "-job" + jobId;
  }

  @Override
  public String name() {
    return "gridengine";
  }

  @Override
  public String submit(JobSpec job) {
    String q = job.request().partition().isEmpty() ? queue : job.request().partition();
    Duration notify = notifyOf(q);
    long hrt = job.request().walltime().minus(notify).getSeconds();
    if (hrt < 1) {
      throw new BatchException("a walltime of " + job.request().walltime().toSeconds() + " s is too short for Grid Engine queue " + q
          + ": its notify time (the warning before the end) is " + notify.toSeconds() + " s; ask for more");
    }
    Path script = BatchCommands.writeScript(scriptDir, job.name(), script(job));
    List<String> qsub = new ArrayList<>(List.of("qsub", "-terse", "-notify", "-w", "e", "-V", "-N", job.name(), "-q", q,
        "-l", "h_rt=" + hrt, "-j", "y", "-o", scriptDir.resolve(job.name() + ".out").toString(), "-S", "/bin/bash"));
    if (!parallelEnvironment.isEmpty()) qsub.addAll(List.of("-pe", parallelEnvironment, String.valueOf(job.request().cores())));
    if (!memoryComplex.isEmpty()) qsub.addAll(List.of("-l", memoryComplex + "=" + job.request().memoryMiB() + "M"));
    qsub.add(script.toString());
    String out = commands.run(qsub, "submitting " + job.name()).trim();
    if (!out.matches("\\d+")) throw new BatchException("qsub answered '" + out + "' instead of a job id");
    return out;
  }

  private static String script(JobSpec job) {
    return """
        #!/bin/bash
        # Ferry timeslot job for Grid Engine. The job's own process (this script, first part) turns
        # -notify's SIGUSR2 into the agent's USR1 and its TERM into the agent's TERM; the agent runs in
        # a session of its own (second part), out of reach of the signals Grid Engine sends the job's
        # process group (a JVM dies of SIGUSR2), with a watchdog that kills that session - the agent
        # and its QEMUs - once the job's own process has gone (h_rt + notify, qdel, killed).
        if [ "${1:-}" != --session ]; then
          trap '[ -n "${session:-}" ] && kill -USR1 $session 2>/dev/null' USR2
          trap '[ -n "${session:-}" ] && kill -TERM $session 2>/dev/null' TERM INT
          trap 'echo "Grid Engine is about to suspend this job"' USR1
          setsid "$0" --session $$ &
          session=$!
          status=0
          while kill -0 $session 2>/dev/null; do wait $session; status=$?; done
          exit $status
        fi
        job=$2
        """
        + BatchCommands.exports(job.environment())
        + "export FERRY_NODE=\"${HOSTNAME%%.*}-job${JOB_ID}\" FERRY_JOB=\"$JOB_ID\"\n"
        + """
        trap '[ -n "${agent:-}" ] && kill -USR1 $agent 2>/dev/null' USR1
        trap '[ -n "${agent:-}" ] && kill -TERM $agent 2>/dev/null' TERM
        """
        + BatchCommands.commandLine(job.command()) + " &\n"
        + """
        agent=$!
        ( while kill -0 $job 2>/dev/null; do sleep 0.5; done; kill -KILL -- -$$ ) 2>/dev/null &
        watchdog=$!
        status=0
        while kill -0 $agent 2>/dev/null; do wait $agent; status=$?; done
        kill $watchdog 2>/dev/null
        for p in $(pgrep -g $$); do [ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null; done
        exit $status
        """;
  }

  /** The queue's notify time, read once per queue (a queue's settings are the site's, and rarely change). */
  private Duration notifyOf(String q) {
    Duration known = notifyByQueue.get(q);
    if (known != null) return known;
    BatchCommands.Result r = commands.exec(List.of("qconf", "-sq", q), "reading queue " + q);
    if (r.exit() != 0) {
      String said = r.err().isEmpty() ? r.out().trim() : r.err();
      if (said.contains("No cluster queue")) {
        String queues = commands.exec(List.of("qconf", "-sql"), "listing queues").out().trim().replace('\n', ' ');
        throw new BatchException("Grid Engine has no queue '" + q + "' (its queues: " + queues
            + "); name one as the request's partition, or set ferry.timeslots.gridengine.queue");
      }
      throw commands.failed("reading queue " + q, List.of("qconf"), r);
    }
    Matcher m = Pattern.compile("(?m)^notify\\s+(\\S+)").matcher(r.out());
    Duration notify = m.find() ? duration(m.group(1)) : Duration.ofSeconds(60);
    notifyByQueue.put(q, notify);
    return notify;
  }

  /** Grid Engine's time values: seconds, or [[H:]M:]S. */
  static Duration duration(String value) {
    long seconds = 0;
    for (String part : value.split(":")) seconds = seconds * 60 + Long.parseLong(part.isEmpty() ? "0" : part);
    return Duration.ofSeconds(seconds);
  }

  @Override
  public Map<String, JobStatus> statuses(Collection<String> jobIds) {
    String what = "reading job" + (jobIds.size() == 1 ? " " + jobIds.iterator().next() : "s " + jobIds);
    Map<String, JobStatus> listed = listed(commands.run(List.of("qstat", "-xml", "-r", "-u", "*"), what));
    Map<String, JobStatus> result = new LinkedHashMap<>();
    for (String jobId : jobIds) {
      JobStatus s = listed.get(jobId);
      result.put(jobId, s != null ? s : accounted(jobId));
    }
    return result;
  }

  /** The jobs {@code qstat -xml -r} lists (running and pending), by id. */
  private Map<String, JobStatus> listed(String xml) {
    Map<String, JobStatus> jobs = new LinkedHashMap<>();
    NodeList list;
    try {
      var factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      list = factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)))
          .getElementsByTagName("job_list");
    } catch (Exception e) {
      throw new BatchException("qstat -xml gave output that is not XML (" + e.getMessage() + "): "
          + xml.substring(0, Math.min(200, xml.length())), e);
    }
    for (int i = 0; i < list.getLength(); i++) {
      Element job = (Element) list.item(i);
      String id = text(job, "JB_job_number");
      String letters = text(job, "state");
      JobState state = state(letters);
      String queueName = text(job, "queue_name");
      String host = queueName.contains("@") ? queueName.substring(queueName.indexOf('@') + 1) : null;
      Instant start = state == JobState.PENDING ? null : time(text(job, "JAT_start_time"));
      Duration walltime = null;
      NodeList requests = job.getElementsByTagName("hard_request");
      for (int k = 0; k < requests.getLength(); k++) {
        Element r = (Element) requests.item(k);
        if ("h_rt".equals(r.getAttribute("name"))) walltime = duration(r.getTextContent().trim()).plus(notifyOf(queueOf(job, queueName)));
      }
      Instant end = start != null && walltime != null ? start.plus(walltime) : null;
      String reason = letters.contains("E") ? "Grid Engine put the job in its error state (qstat -j " + id + " says why); it will not start"
          : letters.contains("h") ? "the job is held (qrls " + id + " releases it)" : "";
      jobs.put(id, new JobStatus(id, state, host == null || state == JobState.PENDING ? null : node(host, id), start, end, reason));
    }
    return jobs;
  }

  private String queueOf(Element job, String queueName) {
    if (queueName.contains("@")) return queueName.substring(0, queueName.indexOf('@'));
    String requested = text(job, "hard_req_queue");
    return requested.isEmpty() ? queue : requested;
  }

  /**
   * Grid Engine's state letters: qw pending, hqw held, Eqw error (it will not run: failed), r / t /
   * Rr running, dr / dt being deleted (killed after the notify time), s / S / T suspended.
   */
  static JobState state(String letters) {
    if (letters.contains("E")) return JobState.FAILED;
    if (letters.contains("d")) return JobState.COMPLETING;
    if (letters.contains("s") || letters.contains("S") || letters.contains("T")) return JobState.UNKNOWN;
    if (letters.contains("r") || letters.contains("t")) return JobState.RUNNING;
    if (letters.contains("q")) return JobState.PENDING;
    return JobState.UNKNOWN;
  }

  private static final DateTimeFormatter ACCT_TIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);

  /** A job qstat no longer lists: {@code qacct} knows how it ended; a job neither knows is gone. */
  private JobStatus accounted(String jobId) {
    BatchCommands.Result r = commands.exec(List.of("qacct", "-j", jobId), "reading the accounting of job " + jobId);
    if (r.exit() != 0) {
      if ((r.err() + r.out()).contains("not found")) {
        return new JobStatus(jobId, JobState.GONE, null, null, null, "Grid Engine lists no job " + jobId + " and has no accounting of it");
      }
      throw commands.failed("reading the accounting of job " + jobId, List.of("qacct"), r);
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : r.out().split("\n")) {
      int space = line.indexOf(' ');
      if (space > 0) fields.putIfAbsent(line.substring(0, space), line.substring(space).trim());
    }
    String failed = fields.getOrDefault("failed", "0");
    int code = Integer.parseInt(failed.split("\\s")[0]);
    int exit = Integer.parseInt(fields.getOrDefault("exit_status", "0").split("\\s")[0]);
    // failed 37: killed for h_rt (its walltime); 100: killed by a signal, as qdel does; 0: it ended by itself
    JobState state = code == 37 ? JobState.TIMEOUT : code == 100 ? JobState.CANCELLED
        : code == 0 && exit == 0 ? JobState.COMPLETED : JobState.FAILED;
    String host = fields.get("hostname");
    return new JobStatus(jobId, state, host == null ? null : node(host, jobId), acctTime(fields.get("start_time")),
        acctTime(fields.get("end_time")), code == 0 ? "exit status " + exit : "failed " + failed + ", exit status " + exit);
  }

  private static Instant acctTime(String value) {
    if (value == null) return null;
    try {
      return LocalDateTime.parse(value, ACCT_TIME).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      return null; // "-/-": the job never started
    }
  }

  private static Instant time(String value) {
    try {
      return value.isEmpty() ? null : LocalDateTime.parse(value).toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static String text(Element e, String tag) {
    NodeList l = e.getElementsByTagName(tag);
    return l.getLength() == 0 ? "" : l.item(0).getTextContent().trim();
  }

  @Override
  public void cancel(String jobId) {
    BatchCommands.Result r = commands.exec(List.of("qdel", jobId), "cancelling job " + jobId);
    // an ended job: "denied: job "N" does not exist"
    if (r.exit() != 0 && !(r.err() + r.out()).contains("does not exist")) throw commands.failed("cancelling job " + jobId, List.of("qdel"), r);
  }

  @Override
  public void moveEnd(String jobId, Duration walltime) {
    throw new BatchException("Grid Engine cannot move the end of job " + jobId + ": qalter -l h_rt is accepted for a running job but "
        + "not applied (it keeps the limit it started with); request a new timeslot instead");
  }

  @Override
  public void warn(String jobId) {
    throw new BatchException("Grid Engine has no command that sends job " + jobId + " its warning early: the -notify warning comes "
        + "at h_rt, the queue's notify time before the job's end");
  }

  /** For tests: the Grid Engine that ops/gridengine.sh runs, job files in {@code scriptDir}, commands given {@code timeout}. */
  public static GridEngineBatchSystem at(Path scriptDir, Map<String, String> environment, Duration timeout) {
    return new GridEngineBatchSystem("/var/lib/gridengine", "default", environment, "ferry.q", "ferry", "", scriptDir, timeout);
  }
}
