package io.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry completion} prints a script that real bash sources and completes commands and options with. */
class CompletionTest {
  @TempDir Path dir;

  @Test
  void bashCompletesCommandsSubcommandsAndOptions() throws Exception {
    Path script = dir.resolve("ferry-completion.bash");
    PrintStream out = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      exit = FerryCli.run("completion");
    } finally {
      System.setOut(out);
    }
    assertEquals(0, exit);
    Files.writeString(script, printed.toString(StandardCharsets.UTF_8));

    assertTrue(complete(script, "ferry", "").containsAll(List.of("vm", "slot", "node", "events", "audit", "policy", "completion")));
    assertEquals(List.of("list"), complete(script, "ferry", "vm", "li"));
    assertTrue(complete(script, "ferry", "vm", "migrate", "--").containsAll(List.of("--to", "--bandwidth", "--deadline", "--no-wait")));
    assertTrue(complete(script, "ferry", "slot", "list", "--w").contains("--watch"));
  }

  /** What bash offers for the last word of {@code words}, after sourcing the script as a user's shell does. */
  private static List<String> complete(Path script, String... words) throws Exception {
    String line = String.join(" ", words);
    StringBuilder array = new StringBuilder();
    for (String w : words) array.append(" '").append(w).append("'");
    String program = "source '" + script + "'\n"
        + "COMP_WORDS=(" + array + " )\n"
        + "COMP_CWORD=" + (words.length - 1) + "\n"
        + "COMP_LINE='" + line + "'\nCOMP_POINT=${#COMP_LINE}\n"
        + "fn=$(complete -p ferry | sed -E 's/.*-F ([^ ]+).*/\\1/')\n"
        + "$fn ferry '" + words[words.length - 1] + "' '" + (words.length > 1 ? words[words.length - 2] : "") + "'\n"
        + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    // (bash's compopt says "not currently executing completion function" when called outside a real
    // completion, as here: its complaints go to stderr, and the offers to stdout)
    Process bash = new ProcessBuilder("bash", "-c", program).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(bash.waitFor(30, TimeUnit.SECONDS), "bash ended");
    assertEquals(0, bash.exitValue(), out);
    return Arrays.stream(out.split("\n")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
