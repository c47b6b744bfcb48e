package io.ferry.policies;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.EnvironmentAccess;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.ResourceLimits;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.io.IOAccess;

/**
 * Runs policy scripts (JavaScript, GraalJS) in a sandbox: no host classes or objects, no file,
 * network or environment access, no threads or processes; per invocation a statement limit, a
 * wall-clock limit and an allocation budget (bytes the invoking thread may allocate), each of which
 * stops the script with a reason. Every invocation gets a fresh context, so scripts keep no state
 * between events; events and the view go in as JSON and actions come out as JSON, checked by
 * {@link PolicyAction#parse}. A script that throws, runs past a limit or returns nonsense yields
 * {@link Outcome.Failed}: the caller records it and lets the fallback decide.
 */
public final class PolicyEngine implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PRELUDE = prelude();

  /**
   * @param statements  statements one invocation may run
   * @param time        wall-clock time one invocation may take
   * @param allocation  bytes one invocation may allocate
   */
  public record Limits(long statements, Duration time, long allocation) {
    public static final Limits DEFAULT = new Limits(1_000_000, Duration.ofSeconds(2), 64L << 20);

    /**
     * The site's limits, from {@code ferry.policies} (this module's reference.conf, overridden by the
     * site's configuration): the keeper's runs, the check when a policy is applied and {@code ferry
     * policy test} all read them here, so that a script accepted at apply time is judged by the
     * limits it will run under.
     */
    public static Limits of(com.typesafe.config.Config config) {
      com.typesafe.config.Config p = config.getConfig("ferry.policies");
      return new Limits(p.getLong("statement-limit"), p.getDuration("time-limit"), p.getBytes("allocation-limit"));
    }
  }

  /** What an invocation came to. */
  public sealed interface Outcome {
    /** The script ran: the actions it asked for (not yet checked against the deadline rules) and its log lines. */
    record Decided(List<PolicyAction> actions, List<Integer> lines, List<String> logs, int handlers, long tookMs) implements Outcome {}

    /** The script failed; {@code reason} says how; {@code line} and {@code column} in the script where known (else 0). */
    record Failed(String reason, int line, int column, long tookMs) implements Outcome {
      Failed(String reason, long tookMs) {
        this(reason, 0, 0, tookMs);
      }
    }
  }

  /** A script that did not compile. */
  public static final class ScriptError extends IllegalArgumentException {
    private final int line;
    private final int column;

    ScriptError(String message, int line, int column) {
      super(message);
      this.line = line;
      this.column = column;
    }

    public int line() {
      return line;
    }

    public int column() {
      return column;
    }
  }

  private final Engine engine = Engine.newBuilder("js").option("engine.WarnInterpreterOnly", "false").build();
  private final Limits limits;
  private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "policy-watchdog");
    t.setDaemon(true);
    return t;
  });

  public PolicyEngine(Limits limits) {
    this.limits = limits;
  }

  /**
   * Checks that a script compiles and that its top level (where it registers its handlers) runs
   * within the limits. No handler runs, not even a {@code '*'} one.
   *
   * @throws ScriptError with the line and column of a syntax error, or what failed while it ran
   */
  public void check(String name, String script) {
    Outcome o = run(name, script, null, null, null);
    if (o instanceof Outcome.Failed f) throw new ScriptError(f.reason(), f.line(), f.column());
  }

  /**
   * Runs {@code script}'s handlers of {@code eventType} on an event and a view (JSON texts); with
   * {@code eventType} {@code null}, only its top level (a check: nothing is decided).
   */
  public Outcome run(String name, String script, String eventType, String eventJson, String viewJson) {
    long start = System.nanoTime();
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    // the limits count the script's own work, from after the context and prelude are set up
    java.util.concurrent.atomic.AtomicLong allocatedBefore = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
    java.util.concurrent.atomic.AtomicLong scriptStart = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
    AtomicReference<String> stoppedFor = new AtomicReference<>();
    try (Context context = Context.newBuilder("js").engine(engine)
        .allowHostAccess(HostAccess.NONE).allowHostClassLookup(c -> false).allowHostClassLoading(false)
        .allowIO(IOAccess.NONE).allowCreateThread(false).allowCreateProcess(false).allowNativeAccess(false)
        .allowEnvironmentAccess(EnvironmentAccess.NONE).allowPolyglotAccess(org.graalvm.polyglot.PolyglotAccess.NONE)
        // no code from strings (eval, new Function): code built at run time could name itself after the
        // script (a sourceURL comment) and put a forged line into an action's recorded cause
        .option("js.allow-eval", "false")
        .resourceLimits(ResourceLimits.newBuilder().statementLimit(limits.statements(), null).build())
        .build()) {
      ScheduledFuture<?> guard = watchdog.scheduleAtFixedRate(() -> {
        long took = System.nanoTime() - scriptStart.get();
        long allocated = threads.getThreadAllocatedBytes(thread) - allocatedBefore.get();
        String why = took > limits.time().toNanos() ? "ran longer than " + limits.time().toMillis() + " ms"
            : allocated > limits.allocation() ? "allocated more than " + (limits.allocation() >> 20) + " MiB" : null;
        if (why != null && stoppedFor.compareAndSet(null, why)) context.close(true);
      }, 5, 5, TimeUnit.MILLISECONDS);
      try {
        // the prelude's dispatcher is held here, never in a global the script could replace
        Value dispatch = context.eval(Source.newBuilder("js", PRELUDE, "ferry-prelude.js").buildLiteral()).execute(name);
        allocatedBefore.set(threads.getThreadAllocatedBytes(thread));
        scriptStart.set(System.nanoTime());
        context.eval(Source.newBuilder("js", script, name).buildLiteral());
        if (eventType == null) return new Outcome.Decided(List.of(), List.of(), List.of(), 0, took(start));
        Value result = dispatch.execute(eventType, eventJson, viewJson);
        return decided(result.asString(), took(start));
      } finally {
        guard.cancel(false);
      }
    } catch (PolyglotException e) {
      var where = e.getSourceLocation();
      if (where == null || !where.getSource().getName().equals(name)) { // a thrown error: its place is in the stack
        for (var frame : e.getPolyglotStackTrace()) {
          var at = frame.getSourceLocation();
          if (at != null && at.getSource().getName().equals(name)) {
            where = at;
            break;
          }
        }
      }
      boolean inScript = where != null && where.getSource().getName().equals(name);
      int line = inScript ? where.getStartLine() : 0;
      int column = inScript ? where.getStartColumn() : 0;
      String at = inScript ? " (" + name + " line " + line + ", column " + column + ")" : "";
      String reason = stoppedFor.get() != null ? "stopped: it " + stoppedFor.get()
          : e.isResourceExhausted() ? "stopped: " + e.getMessage()
          : e.isSyntaxError() ? "syntax error: " + e.getMessage().lines().findFirst().orElse("") // the rest repeats the line
          : "it threw: " + e.getMessage();
      return new Outcome.Failed(reason + at, line, column, took(start));
    } catch (IllegalArgumentException | IOException e) {
      return new Outcome.Failed("it returned nonsense: " + e.getMessage(), took(start));
    } catch (IllegalStateException e) { // the context was closed by the watchdog between statements
      return new Outcome.Failed("stopped: it " + (stoppedFor.get() == null ? e.getMessage() : stoppedFor.get()), took(start));
    }
  }

  private static Outcome decided(String json, long tookMs) throws IOException {
    JsonNode root = JSON.readTree(json);
    List<PolicyAction> actions = new ArrayList<>();
    List<Integer> lines = new ArrayList<>();
    for (JsonNode a : root.path("actions")) { // {line, action}: the line the prelude took from the call's stack
      actions.add(PolicyAction.parse(a.path("action")));
      lines.add(a.path("line").asInt(0));
    }
    List<String> logs = new ArrayList<>();
    for (JsonNode l : root.path("logs")) logs.add(l.asText());
    return new Outcome.Decided(actions, lines, logs, root.path("handled").asInt(), tookMs);
  }

  private static long took(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static String prelude() {
    try (InputStream in = PolicyEngine.class.getResourceAsStream("prelude.js")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("the policy prelude is missing from the policies jar", e);
    }
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
    engine.close();
  }
}
