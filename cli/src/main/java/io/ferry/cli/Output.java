package io.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Prints API answers as aligned tables (people) or JSON ({@code -o json}, scripts). */
final class Output {
  private Output() {}

  static void print(PrintStream out, String format, JsonNode value, String... columns) {
    if ("json".equals(format)) {
      try {
        out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
      return;
    }
    List<JsonNode> items = new ArrayList<>();
    if (value.isArray()) value.forEach(items::add);
    else items.add(value);
    Rows rows = new Rows(out, format, columns);
    rows.widen(items);
    rows.header();
    items.forEach(rows::print);
  }

  /**
   * A table printed row by row: the columns' widths are those of the rows given to {@link #widen}
   * (a later, longer value widens only its own line); in {@code json} format each row is one line
   * of compact JSON (NDJSON), with no header.
   */
  static final class Rows {
    private final PrintStream out;
    private final boolean json;
    private final String[] columns;
    private final int[] width;
    private boolean headed;

    Rows(PrintStream out, String format, String... columns) {
      this.out = out;
      this.json = "json".equals(format);
      this.columns = columns;
      this.width = new int[columns.length];
      for (int i = 0; i < columns.length; i++) width[i] = columns[i].length();
    }

    Rows(String format, String... columns) {
      this(System.out, format, columns);
    }

    void widen(Iterable<JsonNode> items) {
      for (JsonNode item : items) {
        String[] line = cells(item);
        for (int i = 0; i < line.length; i++) width[i] = Math.max(width[i], line[i].length());
      }
    }

    void header() {
      if (headed || json) return;
      headed = true;
      String[] header = new String[columns.length];
      for (int i = 0; i < columns.length; i++) header[i] = columns[i].toUpperCase();
      out.println(join(header));
    }

    /** The line {@code item} prints as. */
    String format(JsonNode item) {
      return json ? item.toString() : join(cells(item));
    }

    /** Prints {@code item}'s line (after the header, the first time) and returns it. */
    String print(JsonNode item) {
      header();
      String line = format(item);
      out.println(line);
      return line;
    }

    private String[] cells(JsonNode item) {
      String[] line = new String[columns.length];
      for (int i = 0; i < columns.length; i++) {
        JsonNode v = item.path(columns[i]);
        line[i] = v.isMissingNode() || v.isNull() ? "-" : v.isValueNode() ? v.asText() : v.toString();
      }
      return line;
    }

    private String join(String[] line) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < line.length; i++) {
        if (i > 0) b.append("  ");
        b.append(i == line.length - 1 ? line[i] : String.format("%-" + width[i] + "s", line[i]));
      }
      return b.toString();
    }
  }

  /** A progress bar on stderr, redrawn in place. */
  static void progress(int percent, String what) {
    int filled = Math.max(0, Math.min(30, percent * 30 / 100));
    System.err.print("\r" + what + " [" + "#".repeat(filled) + " ".repeat(30 - filled) + "] " + percent + "%");
    if (percent >= 100) System.err.println();
  }
}
