package io.ferry.controlplane.batch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a batch system's commands ({@code sbatch}, {@code qsub}, …) with the environment they need
 * and a deadline, and turns what goes wrong into a {@link BatchException} that says what the
 * command said and what to check.
 *
 * @param environment added to the command's environment (SLURM_CONF, SGE_ROOT, …)
 * @param timeout     a command that has not finished by then is killed and reported
 * @param whenDown    appended to errors that look like the batch system is unreachable: what to check
 * @param install     appended when the command cannot be started at all: what to install
 */
record BatchCommands(Map<String, String> environment, Duration timeout, String whenDown, String install) {

  /** Read the commands' output (two threads per running command at most; daemons, so they never hold the JVM). */
  private static final java.util.concurrent.ExecutorService READERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "batch-command-output");
    t.setDaemon(true);
    return t;
  });

  /** What a finished command printed and how it exited. */
  record Result(int exit, String out, String err) {}

  /** Runs the command; a non-zero exit is the caller's to judge. */
  Result exec(List<String> command, String what) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(environment);
    try {
      Process p = pb.start();
      // both streams are read while the command runs (neither can fill its pipe and stall it), and
      // apart from the wait: a command that hangs, output open, is still given up on in time
      CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()), READERS);
      CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()), READERS);
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new BatchException(what + ": " + command.get(0) + " did not finish within " + timeout.toSeconds() + " s (" + whenDown + ")");
      }
      return new Result(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8), new String(err.join(), StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      throw new BatchException(what + ": cannot run " + command.get(0) + " (" + e.getMessage() + "); " + install, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BatchException(what + " was interrupted", e);
    }
  }

  /** Runs the command and returns its output; a non-zero exit is a {@link BatchException} with its error. */
  String run(List<String> command, String what) {
    Result r = exec(command, what);
    if (r.exit() != 0) throw failed(what, command, r);
    return r.out();
  }

  /** The error for a command that exited non-zero, with the hint when it looks unreachable. */
  BatchException failed(String what, List<String> command, Result r) {
    String said = r.err().isEmpty() ? (r.out().isBlank() ? command.get(0) + " exited with " + r.exit() : r.out().trim()) : r.err();
    boolean down = said.contains("contact") || said.contains("Connection refused") || said.contains("timed out")
        || said.contains("unable to send message");
    return new BatchException(what + " failed: " + said + (down ? " (" + whenDown + ")" : ""));
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      return new byte[0];
    }
  }

  /** Quotes a word for a bash script. */
  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /** The {@code export} lines of a job script for {@code environment}. */
  static String exports(Map<String, String> environment) {
    StringBuilder text = new StringBuilder();
    for (var e : environment.entrySet()) text.append("export ").append(e.getKey()).append('=').append(quote(e.getValue())).append('\n');
    return text.toString();
  }

  /** The agent's command line in a job script. */
  static String commandLine(List<String> command) {
    StringBuilder text = new StringBuilder();
    for (String arg : command) text.append(quote(arg)).append(' ');
    return text.toString().trim();
  }

  /** Writes an executable job script {@code name}.sh into {@code dir} (job names are checked first). */
  static Path writeScript(Path dir, String name, String text) {
    if (!name.matches("[A-Za-z0-9._-]+")) throw new BatchException("job name '" + name + "' must be letters, digits, '.', '_', '-'");
    Path script = dir.resolve(name + ".sh");
    try {
      Files.createDirectories(dir);
      Files.writeString(script, text);
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
      return script;
    } catch (IOException e) {
      throw new BatchException("cannot write the job script " + script + ": " + e.getMessage(), e);
    }
  }
}
