package io.ferry.loadtests.chaos;

import io.ferry.loadtests.BenchSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ops/chaos}: the fault campaign. See {@link ChaosCase} for what one case checks. */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = {"Ferry's fault campaign: real control members (3, in their own JVMs), real Slurm jobs whose agents run in",
        "their own network namespaces with real QEMU, real Cassandra. For every fault x operation x step it runs a case:",
        "a tiny VM, the operation (migrate, suspend, resume, evacuate at expiry), the fault before, during or right after",
        "it. Each case checks: never two QEMUs running the guest (20 ms census), never Running without a QEMU for more",
        "than 5 s, the VM settles Running/Suspended/Failed/Lost with a true reason, the journal keeps every event it had",
        "before the fault, audit verify is clean. Writes a JSON report and a Markdown table (RELIABILITY.md's)."})
public final class Chaos implements Callable<Integer> {
  @Option(names = "--faults", split = ",", description = "faults to inject (default: all): ${COMPLETION-CANDIDATES}")
  List<Fault> faults = new ArrayList<>(EnumSet.allOf(Fault.class));

  @Option(names = "--ops", split = ",", description = "operations (default: all): ${COMPLETION-CANDIDATES}")
  List<Op> ops = new ArrayList<>(EnumSet.allOf(Op.class));

  @Option(names = "--steps", split = ",", description = "steps (default: all): ${COMPLETION-CANDIDATES}")
  List<Step> steps = new ArrayList<>(EnumSet.allOf(Step.class));

  @Option(names = "--case", description = "one case as FAULT/OP/STEP (repeatable; instead of the matrix), e.g. CASSANDRA_KILL/EVACUATE/DURING")
  List<String> cases = new ArrayList<>();

  @Option(names = "--members", defaultValue = "3", description = "control members (default: ${DEFAULT-VALUE})")
  int members;

  @Option(names = "--ferry-home", description = "Ferry's built checkout (default: $FERRY_HOME, or the current folder)")
  Path ferryHome;

  @Option(names = "--images", description = "the images folder with the tiny test guest (default: $FERRY_IMAGES, or ~/.ferry/images)")
  Path images;

  @Option(names = "--keep-journal", description = "keep the campaign's Cassandra keyspace at the end (it is dropped otherwise)")
  boolean keepJournal;

  @Option(names = "--report", description = "the JSON report (default: $FERRY_STATE/bench/chaos-<time>.json; the table beside it, .md)")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Chaos()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  /** The cases to run: the explicit ones, or the matrix of the selected faults, operations and steps that apply. */
  List<String[]> plan() {
    List<String[]> plan = new ArrayList<>();
    if (!cases.isEmpty()) {
      for (String c : cases) {
        String[] p = c.toUpperCase(Locale.ROOT).split("/");
        if (p.length != 3) throw new CommandLine.ParameterException(new CommandLine(this), "--case " + c + ": expected FAULT/OP/STEP");
        if (!ChaosCase.applies(Fault.valueOf(p[0]), Op.valueOf(p[1]), Step.valueOf(p[2]))) {
          throw new CommandLine.ParameterException(new CommandLine(this), "--case " + c
              + ": that fault means nothing for that operation at that step (a suspend has no target; no QEMU runs before a resume or after a suspend)");
        }
        plan.add(p);
      }
      return plan;
    }
    for (Fault f : faults) {
      for (Op o : ops) {
        for (Step s : steps) {
          if (ChaosCase.applies(f, o, s)) plan.add(new String[] {f.name(), o.name(), s.name()});
        }
      }
    }
    return plan;
  }

  @Override
  public Integer call() throws Exception {
    List<String[]> plan;
    try {
      plan = plan();
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage() + "; see --help for the faults, operations and steps");
      return 2;
    }
    Path home = ferryHome != null ? ferryHome : Path.of(System.getenv().getOrDefault("FERRY_HOME", "."));
    Path imageDir = images != null ? images
        : Path.of(System.getenv().getOrDefault("FERRY_IMAGES", System.getProperty("user.home") + "/.ferry/images"));
    Instant time = Instant.now();
    BenchSupport.progress(plan.size() + " cases; starting the rig (" + members + " control members, Slurm, namespaces)");
    List<ChaosCase.Outcome> outcomes = run(home.toAbsolutePath(), imageDir, members, plan, keepJournal);
    Path out = BenchSupport.reportPath(report, "chaos", time, "json");
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("campaign", "chaos");
    r.put("time", time.toString());
    r.put("machine", BenchSupport.machine());
    r.put("cases", outcomes);
    BenchSupport.writeJson(out, r);
    Path table = Path.of(out.toString().replaceAll("\\.json$", "") + ".md");
    Files.writeString(table, table(outcomes, time));
    long failed = outcomes.stream().filter(o -> !o.ok()).count();
    System.out.println("report: " + out);
    System.out.println("table: " + table);
    System.out.println("cases=" + outcomes.size() + " held=" + (outcomes.size() - failed) + " failed=" + failed);
    return failed == 0 ? 0 : 1;
  }

  /** Runs the cases on one rig (torn down at the end). */
  static List<ChaosCase.Outcome> run(Path home, Path images, int members, List<String[]> plan, boolean keepJournal) throws Exception {
    List<ChaosCase.Outcome> outcomes = new ArrayList<>();
    try (Rig rig = Rig.start(home, images, members, Duration.ofSeconds(90))) {
      rig.keepJournal = keepJournal;
      for (String[] c : plan) {
        ChaosCase.Outcome o = new ChaosCase(rig, Fault.valueOf(c[0]), Op.valueOf(c[1]), Step.valueOf(c[2])).run();
        outcomes.add(o);
        BenchSupport.progress((o.ok() ? "HELD " : "FAILED ") + o.name() + ": " + o.outcome() + (o.ok() ? "" : " — " + o.failures()));
        if (!o.ok()) System.out.print(CaseTrace.render(o.name(), o.trace()));
      }
    }
    return outcomes;
  }

  /** RELIABILITY.md's table: fault × operation × step → what happened, whether every check held, how to run the row. */
  static String table(List<ChaosCase.Outcome> outcomes, Instant time) {
    StringBuilder s = new StringBuilder();
    s.append("Campaign of ").append(time.toString(), 0, 10).append(" on ").append(BenchSupport.machine()).append(": ")
        .append(outcomes.stream().filter(ChaosCase.Outcome::ok).count()).append(" of ").append(outcomes.size()).append(" cases held.\n\n");
    s.append("| fault | operation | step | outcome | checks | s | reproduce |\n|---|---|---|---|---|---|---|\n");
    for (ChaosCase.Outcome o : outcomes) {
      s.append("| ").append(o.fault().text).append(" | ").append(o.op().name().toLowerCase(Locale.ROOT)).append(" | ")
          .append(o.step().name().toLowerCase(Locale.ROOT)).append(" | ").append(o.outcome().replace("|", "/")).append(" | ")
          .append(o.ok() ? "all held" : "FAILED: " + o.failures().replace("|", "/")).append(" | ").append(o.figures().get("case_s"))
          .append(" | `ops/chaos --case ").append(o.name()).append("` |\n");
    }
    return s.toString();
  }
}
