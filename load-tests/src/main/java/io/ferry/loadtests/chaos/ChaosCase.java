package io.ferry.loadtests.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.loadtests.BenchSupport;
import io.ferry.loadtests.BenchSupport.Api.Answer;
import io.ferry.nodeagent.driver.qemu.GuestConsole;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One case of the campaign: a tiny VM on a Slurm timeslot, an operation ({@link Op}) towards a
 * second timeslot, and a fault ({@link Fault}) at one {@link Step} of it. Throughout, a
 * {@link Census} watches the VM's QEMUs and a monitor reads the VM's stage; at the end the VM
 * must have settled in a stage that says what is true, and the journal must hold what it held
 * before the fault and pass {@code audit verify}.
 */
final class ChaosCase {
  /** The stages a VM may end a case in. */
  static final Set<String> SETTLED = Set.of("Running", "Suspended", "Failed", "Lost", "Stopped");
  /** The longest a VM may be recorded Running while none of its QEMUs runs. */
  static final Duration RUNNING_WITHOUT_QEMU = Duration.ofSeconds(5);

  /** One invariant checked by a case: its name, whether it held, what was seen. */
  record Check(String name, boolean ok, String detail) {}

  /**
   * What a case found; {@code rigDir} and {@code traced} (its VM's and timeslots' ids) say where to
   * read what the rig logged about it ({@link #trace}), for a failure's report, not the JSON report.
   */
  record Outcome(Fault fault, Op op, Step step, String outcome, List<Check> checks, Map<String, Object> figures,
      @com.fasterxml.jackson.annotation.JsonIgnore java.nio.file.Path rigDir,
      @com.fasterxml.jackson.annotation.JsonIgnore List<String> traced) {
    /** What the rig logged about the case ({@link CaseTrace}), read from its logs when asked. */
    List<String> trace() {
      return traced.isEmpty() ? List.of() : CaseTrace.of(rigDir, traced);
    }

    boolean ok() {
      return checks.stream().allMatch(Check::ok);
    }

    String failures() {
      return checks.stream().filter(c -> !c.ok()).map(c -> c.name() + ": " + c.detail()).reduce((a, b) -> a + "; " + b).orElse("");
    }

    String name() {
      return fault + "/" + op + "/" + step;
    }
  }

  private final Rig rig;
  private final Fault fault;
  private final Op op;
  private final Step step;
  private final List<Check> checks = new ArrayList<>();
  private final Map<String, Object> figures = new LinkedHashMap<>();
  private JsonNode source;
  private JsonNode target;
  private String vm;

  ChaosCase(Rig rig, Fault fault, Op op, Step step) {
    this.rig = rig;
    this.fault = fault;
    this.op = op;
    this.step = step;
  }

  /**
   * Whether the fault means something for the operation at that step: a suspend has no target,
   * and no QEMU of the VM runs to be killed before a resume or after a suspend.
   */
  static boolean applies(Fault fault, Op op, Step step) {
    if (fault == Fault.TARGET_AGENT_KILL && op == Op.SUSPEND) return false;
    if (fault != Fault.QEMU_KILL) return true;
    return !(op == Op.RESUME && step == Step.BEFORE) && !(op == Op.SUSPEND && step == Step.AFTER);
  }

  Outcome run() {
    long started = System.nanoTime();
    String outcome;
    try {
      outcome = play();
    } catch (RuntimeException e) {
      outcome = "harness error: " + e.getMessage();
      checks.add(new Check("case ran", false, String.valueOf(e)));
    } finally {
      try {
        rig.restore(vm == null ? List.of() : List.of(vm), java.util.stream.Stream.of(source, target).filter(t -> t != null).toList());
      } catch (RuntimeException e) {
        checks.add(new Check("rig restored", false, e.getMessage()));
      }
    }
    figures.put("case_s", (System.nanoTime() - started) / 1_000_000_000L);
    List<String> ids = java.util.stream.Stream.concat(java.util.stream.Stream.ofNullable(vm),
        java.util.stream.Stream.of(source, target).filter(t -> t != null).map(t -> t.get("id").asText())).toList();
    return new Outcome(fault, op, step, outcome, checks, figures, rig.dir, ids);
  }

  private String play() {
    target = rig.activeTimeslot(Duration.ofMinutes(30));
    // an evacuation's source ends soon: 2 minutes of walltime, the expiry warning 90 s before its end
    source = rig.activeTimeslot(op == Op.EVACUATE ? Duration.ofMinutes(2) : Duration.ofMinutes(30));
    vm = rig.runningVm("c" + Rig.shortId(), source.get("id").asText());
    String sourceNode = source.get("node").asText();
    String targetNode = target.get("node").asText();
    BenchSupport.progress(name() + ": VM " + vm + " runs on " + sourceNode + "; target " + targetNode);
    try (Census census = new Census(vm); StageMonitor monitor = new StageMonitor(rig, vm, census)) {
      if (op == Op.RESUME) {
        answer("suspend first", rig.api.post("/v1/vms/" + vm + "/suspend", rig.token, Map.of()));
        awaitStage(Set.of("Suspended"), Duration.ofSeconds(90));
      }
      String bootBefore = lastBoot();
      JsonNode before;
      CompletableFuture<Void> healed;
      Answer asked = null;
      switch (step) {
        case BEFORE -> {
          if (op == Op.EVACUATE) {
            BenchSupport.await("the expiry warning of " + source.get("id").asText(), Duration.ofSeconds(150),
                () -> rig.timeslot(source.get("id").asText()), t -> !t.get("stage").asText().equals("Active"));
          }
          before = steps();
          healed = inject(census, sourceNode, targetNode);
          if (op != Op.EVACUATE) asked = ask();
        }
        case DURING -> {
          before = steps();
          if (op != Op.EVACUATE) asked = ask();
          boolean seen = awaitInFlight(census);
          figures.put("in_flight_seen", seen);
          healed = inject(census, sourceNode, targetNode);
        }
        default -> {
          if (op != Op.EVACUATE) asked = ask();
          awaitStage(Set.of(op == Op.SUSPEND ? "Suspended" : "Running"), Duration.ofSeconds(op == Op.EVACUATE ? 180 : 120),
              v -> op == Op.SUSPEND || v.path("timeslot").asText().equals(target.get("id").asText()));
          before = steps();
          healed = inject(census, sourceNode, targetNode);
        }
      }
      if (asked != null) figures.put("asked", asked.status() + (asked.ok() ? "" : " " + asked.problem()));
      healed.join();
      BenchSupport.progress(name() + ": fault over; waiting for the VM to settle");
      JsonNode end = settle();
      monitor.close();
      return judge(end, before, bootBefore, census, monitor);
    }
  }

  private String name() {
    return fault + "/" + op + "/" + step;
  }

  private Answer ask() {
    Answer a = switch (op) {
      case MIGRATE -> rig.api.post("/v1/vms/" + vm + "/migrate", rig.token, Map.of("timeslot", target.get("id").asText()));
      case SUSPEND -> rig.api.post("/v1/vms/" + vm + "/suspend", rig.token, Map.of());
      case RESUME -> rig.api.post("/v1/vms/" + vm + "/resume", rig.token, Map.of("timeslot", target.get("id").asText()));
      case EVACUATE -> throw new IllegalStateException("an evacuation is not asked for");
    };
    BenchSupport.progress(name() + ": " + op + " asked: " + a.status() + (a.ok() ? "" : " " + a.problem()));
    return a;
  }

  private static void answer(String what, Answer a) {
    if (!a.ok()) throw new IllegalStateException(what + ": " + a.problem());
  }

  /** Waits (20 ms probes) for the operation's in-flight stage; false if it was over before it was seen. */
  private boolean awaitInFlight(Census census) {
    long deadline = System.nanoTime() + Duration.ofSeconds(op == Op.EVACUATE ? 150 : 60).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode v = rig.vm(vm);
      if (v != null) {
        String stage = v.get("stage").asText();
        if (stage.equals(op.inFlight)) return true;
        // still before the operation: Running on the source (Suspended, for a resume)
        boolean waiting = op == Op.RESUME ? stage.equals("Suspended")
            : stage.equals("Running") && v.path("timeslot").asText().equals(source.get("id").asText());
        if (!waiting) return false;
      }
      BenchSupport.sleep(Duration.ofMillis(20));
    }
    throw new IllegalStateException(op + " did not start within the deadline (stage " + stageNow() + ")");
  }

  private String stageNow() {
    JsonNode v = rig.vm(vm);
    return v == null ? "unreadable" : v.get("stage").asText();
  }

  private void awaitStage(Set<String> stages, Duration within) {
    awaitStage(stages, within, v -> true);
  }

  private JsonNode awaitStage(Set<String> stages, Duration within, java.util.function.Predicate<JsonNode> also) {
    return BenchSupport.await("VM " + vm + " " + stages, within, () -> rig.vm(vm), v -> stages.contains(v.get("stage").asText()) && also.test(v));
  }

  private String lastBoot() {
    GuestConsole.Count c = rig.count(vm);
    return c == null ? null : c.boot();
  }

  /**
   * The VM's journal as the audit shows it; read again for up to a minute while the API answers
   * 5xx (the journal coming back after an outage: the members' sessions reconnect with backoff).
   */
  private JsonNode steps() {
    Answer a = BenchSupport.await("the audit of " + vm + " readable", Duration.ofSeconds(60),
        () -> rig.api.get("/v1/audit/vms/" + vm, rig.token), r -> r.ok() || r.status() < 500);
    answer("audit of " + vm, a);
    return a.body().get("steps");
  }

  /** Breaks what the fault breaks; the future completes once the fault is over (healed, where something heals it). */
  private CompletableFuture<Void> inject(Census census, String sourceNode, String targetNode) {
    BenchSupport.progress(name() + ": injecting " + fault.text + " (stage " + stageNow() + ")");
    Members m = rig.members;
    switch (fault) {
      case QEMU_KILL -> {
        // the QEMU running the guest; during a resume, the one loading it (it has not run the guest yet)
        Long pid = census.runningPid() != null ? census.runningPid() : Census.qemusOf(vm).keySet().stream().max(Long::compare).orElse(null);
        if (pid == null) throw new IllegalStateException("no QEMU of " + vm + " runs to kill (stage " + stageNow() + ")");
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        return CompletableFuture.completedFuture(null);
      }
      case SOURCE_AGENT_KILL -> {
        rig.agentOrFail(sourceNode).destroyForcibly();
        return CompletableFuture.completedFuture(null);
      }
      case TARGET_AGENT_KILL -> {
        rig.agentOrFail(targetNode).destroyForcibly();
        return CompletableFuture.completedFuture(null);
      }
      case MEMBER_KILL -> {
        m.kill(0);
        return later(Duration.ofSeconds(15), () -> m.start(0));
      }
      case MEMBER_FREEZE -> {
        m.freeze(0);
        return later(Duration.ofSeconds(15), () -> m.thaw(0));
      }
      case CONTROL_RESTART -> {
        return CompletableFuture.runAsync(() -> {
          for (int i = m.count() - 1; i >= 0; i--) m.stop(i);
          m.startAll();
        });
      }
      case ROLLING_RESTART -> {
        return CompletableFuture.runAsync(() -> {
          for (int i = 0; i < m.count(); i++) {
            m.stop(i);
            m.start(i);
          }
        });
      }
      case CASSANDRA_KILL -> {
        rig.killCassandra();
        return later(Duration.ofSeconds(20), rig::startCassandra);
      }
      case SOURCE_PARTITION -> {
        rig.net.cut(sourceNode);
        return later(Duration.ofSeconds(30), () -> rig.net.heal(sourceNode));
      }
      default -> throw new IllegalArgumentException(String.valueOf(fault));
    }
  }

  /** Runs {@code heal} once {@code after} has passed (the fault's length: a schedule, not a wait for a condition). */
  private static CompletableFuture<Void> later(Duration after, Runnable heal) {
    return CompletableFuture.runAsync(() -> {
      BenchSupport.sleep(after);
      heal.run();
    });
  }

  /**
   * Waits until the VM's stage is one of {@link #SETTLED} and has stayed so for 15 s; a VM an
   * expiry suspended, for 45 s: the built-in evacuation resumes it on the target, which has room,
   * once its 30 s hold on a VM it acted on has passed (an outage that outlasts the expiry's
   * migration window ends so).
   */
  private JsonNode settle() {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    String stage = null;
    long since = System.nanoTime();
    JsonNode v = null;
    while (System.nanoTime() < deadline) {
      JsonNode now = rig.vm(vm);
      if (now != null) {
        String s = now.get("stage").asText();
        if (!s.equals(stage)) {
          stage = s;
          since = System.nanoTime();
        }
        v = now;
        Duration stable = op == Op.EVACUATE && s.equals("Suspended") ? Duration.ofSeconds(45) : Duration.ofSeconds(15);
        if (SETTLED.contains(s) && System.nanoTime() - since > stable.toNanos()) return v;
      }
      BenchSupport.sleep(Duration.ofMillis(250));
    }
    return v;
  }

  private String judge(JsonNode end, JsonNode before, String bootBefore, Census census, StageMonitor monitor) {
    String stage = end == null ? "unreadable" : end.get("stage").asText();
    String reason = end == null ? "" : end.path("reason").asText("");
    boolean settled = SETTLED.contains(stage);
    checks.add(new Check("settled", settled, "ended " + stage + (reason.isEmpty() ? "" : " (" + reason + ")")));
    String guest = "";
    if (stage.equals("Running")) {
      GuestConsole.Count first = rig.count(vm);
      GuestConsole.Count later;
      try {
        later = BenchSupport.await("the guest of " + vm + " counting", Duration.ofSeconds(20), () -> rig.count(vm),
            c -> first != null && c.boot().equals(first.boot()) && c.n() > first.n());
      } catch (IllegalStateException e) {
        later = null;
      }
      boolean counting = later != null && census.alive();
      checks.add(new Check("a Running VM's guest runs", counting, counting ? "counting" : "no guest counting on any QEMU: " + first));
      guest = later == null ? "" : later.boot().equals(bootBefore) ? ", the same guest" : ", a new boot";
    } else if (settled) {
      boolean gone = awaitNoQemu(census);
      checks.add(new Check("no QEMU unless Running", gone, gone ? "none" : "a QEMU of a " + stage + " VM still runs: " + Census.describe(vm)));
      if (stage.equals("Failed") || stage.equals("Lost")) {
        checks.add(new Check("a failure says why", !reason.isBlank(), reason.isBlank() ? "no reason recorded" : reason));
      }
    }
    String twice = census.ranTwice();
    checks.add(new Check("never two QEMUs running the guest", twice == null, twice == null ? "longest overlap " + census.longestTwiceMs() + " ms" : twice));
    figures.put("most_qemus_at_once", census.mostProcesses());
    figures.put("running_without_qemu_ms", monitor.longestRunningWithoutQemuMs());
    boolean honest = monitor.longestRunningWithoutQemuMs() <= RUNNING_WITHOUT_QEMU.toMillis();
    checks.add(new Check("Running only with a QEMU", honest, "longest Running without a QEMU " + monitor.longestRunningWithoutQemuMs() + " ms"));
    JsonNode after = steps();
    String lostPrefix = prefixMissing(before, after);
    checks.add(new Check("journal kept what it had", lostPrefix == null, lostPrefix == null ? before.size() + " events kept" : lostPrefix));
    List<String> violations = violations();
    checks.add(new Check("audit verify", violations.isEmpty(), violations.isEmpty() ? "clean" : String.join("; ", violations)));
    figures.put("stages", monitor.stages());
    String where = end != null && stage.equals("Running")
        ? (end.path("timeslot").asText().equals(target.get("id").asText()) ? " on the target" : " on the source") : "";
    return stage + where + guest + (reason.isEmpty() || stage.equals("Running") ? "" : ": " + reason);
  }

  private boolean awaitNoQemu(Census census) {
    try {
      BenchSupport.await("no QEMU of " + vm, Duration.ofSeconds(10), () -> !census.alive(), none -> none);
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /** Null if every step of {@code before} is the same in {@code after}, else what differs. */
  static String prefixMissing(JsonNode before, JsonNode after) {
    for (int i = 0; i < before.size(); i++) {
      JsonNode b = before.get(i);
      JsonNode a = i < after.size() ? after.get(i) : null;
      if (a == null || a.get("sequenceNr").asLong() != b.get("sequenceNr").asLong() || !a.get("event").equals(b.get("event"))
          || !a.get("at").equals(b.get("at"))) {
        return "event " + b.get("sequenceNr") + " (" + b.get("event").asText() + ") before the fault is " + (a == null ? "gone" : "now " + a);
      }
    }
    return null;
  }

  private List<String> violations() {
    Answer a = rig.api.get("/v1/audit/verify", rig.adminToken);
    answer("audit verify", a);
    List<String> mine = new ArrayList<>();
    for (JsonNode v : a.body().get("violations")) {
      String entity = v.path("entity").asText();
      if (entity.contains(vm) || entity.contains(source.get("id").asText()) || entity.contains(target.get("id").asText())) {
        mine.add(v.path("rule").asText() + ": " + v.path("message").asText());
      }
    }
    return mine;
  }
}
