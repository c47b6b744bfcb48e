package io.ferry.loadtests.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the rig's processes logged about one case: every line of the control members' logs and of
 * the agents' job outputs that names the case's VM or one of its timeslots, in time order, stack
 * frames left out. Printed for a case that failed or ended unexpectedly, so that a failure on a
 * machine nobody can log in to (CI) still says what happened, in one place.
 */
final class CaseTrace {
  /** At most this many lines: the first and the last of them, with a marker for the middle left out. */
  static final int LIMIT = 200;
  private static final Pattern STAMPED = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*");

  private CaseTrace() {}

  /** The lines of the rig's logs under {@code rigDir} that name one of {@code ids}, each prefixed with its file's name. */
  static List<String> of(Path rigDir, List<String> ids) {
    List<String[]> found = new ArrayList<>(); // {time stamp, line}
    List<Path> logs;
    try (Stream<Path> files = Files.walk(rigDir, 3)) {
      logs = files.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".out")).sorted().toList();
    } catch (IOException e) {
      return List.of("(cannot read the rig's logs under " + rigDir + ": " + e.getMessage() + ")");
    }
    for (Path log : logs) {
      String source = log.getFileName().toString();
      try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
        lines.filter(l -> STAMPED.matcher(l).matches() && ids.stream().anyMatch(l::contains))
            .forEach(l -> found.add(new String[] {l.substring(0, 12), source + ": " + l}));
      } catch (IOException | UncheckedIOException e) {
        found.add(new String[] {"", source + ": (unreadable: " + e.getMessage() + ")"});
      }
    }
    found.sort(Comparator.comparing(f -> f[0]));
    List<String> all = found.stream().map(f -> f[1]).toList();
    return shortened(all, LIMIT);
  }

  /** {@code lines} as they are if there are at most {@code limit}, else the first fifth and the rest from the end. */
  static List<String> shortened(List<String> lines, int limit) {
    if (lines.size() <= limit) return lines;
    int head = limit / 5;
    List<String> out = new ArrayList<>(lines.subList(0, head));
    out.add("… " + (lines.size() - limit) + " lines left out …");
    out.addAll(lines.subList(lines.size() - (limit - head), lines.size()));
    return out;
  }

  /** The trace as printed: one line per log line, each starting with "  | " (ops/test prints these for a failed run). */
  static String render(String caseName, List<String> trace) {
    StringBuilder s = new StringBuilder("  | what the rig logged about " + caseName + " (" + trace.size() + " lines):\n");
    trace.forEach(l -> s.append("  | ").append(l).append('\n'));
    return s.toString();
  }
}
