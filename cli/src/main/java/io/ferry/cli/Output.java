package io.ferry.controlplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Prints API answers as aligned tables (people) or JSON ({@code -o json}, scripts). */
final class Output {
  private Output() {}

  static void print(PrintStream out, String format, JsonNode value, String... columns) {
    if ("json".equals(format)) {
      try {
        out.println(ApiJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      return;
    }
    List<JsonNode> rows = new ArrayList<>();
    if (value.isArray()) value.forEach(rows::add);
    else rows.add(value);
    int[] width = new int[columns.length];
    List<String[]> cells = new ArrayList<>();
    String[] header = new String[columns.length];
    for (int i = 0; i < columns.length; i++) {
      header[i] = columns[i].toUpperCase();
      width[i] = header[i].length();
    }
    for (JsonNode row : rows) {
      String[] line = new String[columns.length];
      for (int i = 0; i < columns.length; i++) {
        JsonNode v = row.path(columns[i]);
        line[i] = v.isMissingNode() || v.isNull() ? "-" : v.isValueNode() ? v.asText() : v.toString();
        width[i] = Math.max(width[i], line[i].length());
      }
      cells.add(line);
    }
    out.println(format(header, width));
    for (String[] line : cells) out.println(format(line, width));
  }

  private static String format(String[] line, int[] width) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < line.length; i++) {
      if (i > 0) b.append("  ");
      b.append(i == line.length - 1 ? line[i] : String.format("%-" + width[i] + "s", line[i]));
    }
    return b.toString();
  }

  /** A progress bar on stderr, redrawn in place. */
  static void progress(int percent, String what) {
    int filled = Math.max(0, Math.min(30, percent * 30 / 100));
    System.err.print("\r" + what + " [" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + percent + "%");
    if (percent >= 100) System.err.println();
  }
}
