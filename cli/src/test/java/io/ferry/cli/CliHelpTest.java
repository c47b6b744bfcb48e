package io.ferry.controlplane.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help names its options' values in words, never picocli's {@code <argN>}. */
class CliHelpTest {
  @Test
  void noCommandsHelpShowsAPlaceholderAndValuesReadAsWords() {
    List<String> usages = new ArrayList<>();
    collect(new CommandLine(new FerryCli()), usages);
    assertTrue(usages.size() > 20, usages.size() + " commands");
    for (String usage : usages) assertFalse(usage.matches("(?s).*<arg\\d+>.*"), usage);
    String all = String.join("\n", usages);
    for (String word : List.of("--cores=N", "--memory=MiB", "--walltime=DURATION", "--to=TIMESLOT", "--flavour=FLAVOUR")) {
      assertTrue(all.contains(word), word + " in\n" + all);
    }
  }

  private static void collect(CommandLine command, List<String> usages) {
    usages.add(command.getUsageMessage(CommandLine.Help.Ansi.OFF));
    command.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, usages));
  }
}
