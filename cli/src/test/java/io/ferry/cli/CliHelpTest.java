package io.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    collect(FerryCli.commandLine(null), usages);
    assertTrue(usages.size() > 20, usages.size() + " commands");
    for (String usage : usages) assertFalse(usage.matches("(?s).*<arg\\d+>.*"), usage);
    String all = String.join("\n", usages);
    for (String word : List.of("--cores=N", "--memory=MiB", "--walltime=DURATION", "--to=TIMESLOT", "--flavour=FLAVOUR")) {
      assertTrue(all.contains(word), word + " in\n" + all);
    }
  }

  /** A call builds only the group it names, and that group is the same as in the full command line. */
  @Test
  void aCallBuildsOnlyTheGroupItNames() {
    assertEquals("vm", FerryCli.group("vm", "list"));
    assertEquals("vm", FerryCli.group("--server", "http://h:1", "-o", "json", "vm", "list"));
    assertEquals("slot", FerryCli.group("--server=http://h:1", "--token", "t", "slot", "list"));
    assertNull(FerryCli.group("--help"));
    assertNull(FerryCli.group("-o", "json"));
    CommandLine vm = FerryCli.commandLine("vm");
    assertEquals(java.util.Set.of("vm", "help"), subcommandsOf(vm), "only vm (and picocli's own help, if any)");
    CommandLine all = FerryCli.commandLine(null);
    assertTrue(subcommandsOf(all).containsAll(FerryCli.GROUPS.keySet()), subcommandsOf(all).toString());
    assertEquals(all.getSubcommands().get("vm").getSubcommands().get("list").getUsageMessage(CommandLine.Help.Ansi.OFF),
        vm.getSubcommands().get("vm").getSubcommands().get("list").getUsageMessage(CommandLine.Help.Ansi.OFF));
    // an unknown group builds them all, so picocli can say what there is
    assertTrue(subcommandsOf(FerryCli.commandLine("vms")).containsAll(FerryCli.GROUPS.keySet()));
  }

  private static java.util.Set<String> subcommandsOf(CommandLine c) {
    java.util.Set<String> names = new java.util.HashSet<>(c.getSubcommands().keySet());
    names.add("help");
    return names;
  }

  private static void collect(CommandLine command, List<String> usages) {
    usages.add(command.getUsageMessage(CommandLine.Help.Ansi.OFF));
    command.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, usages));
  }
}
