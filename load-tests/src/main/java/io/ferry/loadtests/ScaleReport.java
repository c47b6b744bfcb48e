package io.ferry.loadtests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes a scale run's Markdown summary and its plot of evacuations against deadlines (SVG). */
final class ScaleReport {
  private ScaleReport() {}

  /** A short Markdown table of the run's headline numbers. */
  static void markdown(Path file, Map<String, Object> r, Map<String, Object> summary) throws IOException {
    StringBuilder md = new StringBuilder("# Ferry scale run " + r.get("time") + "\n\n");
    md.append("Machine: ").append(r.get("machine")).append("  \nScenario: `").append(r.get("scenario")).append("`\n\n");
    md.append("| measure | value |\n|---|---|\n");
    summary.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    @SuppressWarnings("unchecked")
    Map<String, Long> causes = (Map<String, Long>) r.get("miss_causes");
    if (!causes.isEmpty()) {
      md.append("\n## Misses by cause\n\n| cause | VMs |\n|---|---|\n");
      causes.forEach((c, n) -> md.append("| ").append(c.replace("|", "/")).append(" | ").append(n).append(" |\n"));
    }
    @SuppressWarnings("unchecked")
    Map<String, Long> rules = (Map<String, Long>) ((Map<String, Object>) r.get("audit_verify")).get("violations_by_rule");
    if (rules != null && !rules.isEmpty()) {
      md.append("\n## Audit verify: violations by rule\n\n| rule | count |\n|---|---|\n");
      rules.forEach((rule, n) -> md.append("| ").append(rule).append(" | ").append(n).append(" |\n"));
      md.append("\nThe first 50 are in the JSON report (`audit_verify.first_violations`).\n");
    }
    md.append("\nEvery miss with its full cause is in the JSON report (`misses`); the plot is `")
        .append(r.get("plot")).append("`.\n");
    Files.writeString(file, md);
  }

  /**
   * Cumulative evacuations completed in time over time, against the cumulative deadlines (VMs
   * whose timeslot had ended by then); misses are red crosses at their deadline.
   */
  static void svg(Path file, List<ScaleAnalysis.Evacuation> evacuations, String title) throws IOException {
    int w = 900;
    int h = 420;
    int left = 70;
    int right = 20;
    int top = 40;
    int bottom = 50;
    if (evacuations.isEmpty()) {
      Files.writeString(file, "<svg xmlns='http://www.w3.org/2000/svg' width='" + w + "' height='80'><text x='10' y='40'>"
          + "no evacuations in this run</text></svg>\n");
      return;
    }
    Instant t0 = evacuations.stream().map(ScaleAnalysis.Evacuation::warning).min(Comparator.naturalOrder()).orElseThrow();
    List<Double> deadlines = new ArrayList<>();
    List<Double> done = new ArrayList<>();
    List<Double> missed = new ArrayList<>();
    for (var e : evacuations) {
      deadlines.add(seconds(t0, e.deadline()));
      if (e.inTime()) done.add(seconds(t0, e.done()));
      else missed.add(seconds(t0, e.deadline()));
    }
    deadlines.sort(null);
    done.sort(null);
    double xmax = Math.max(1, Math.max(deadlines.get(deadlines.size() - 1), done.isEmpty() ? 0 : done.get(done.size() - 1))) * 1.02;
    double ymax = evacuations.size() * 1.05;
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>%n", w, h));
    s.append("<rect width='100%' height='100%' fill='white'/>\n");
    s.append(String.format(Locale.ROOT, "<text x='%d' y='20' font-size='14'>%s</text>%n", left, escape(title)));
    double pw = w - left - right;
    double ph = h - top - bottom;
    s.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>%n", left, h - bottom, w - right, h - bottom));
    s.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>%n", left, top, left, h - bottom));
    double xstep = tick(xmax);
    for (double xv = 0; xv <= xmax; xv += xstep) {
      s.append(String.format(Locale.ROOT, "<text x='%.0f' y='%d' text-anchor='middle'>%.0f</text>%n", left + pw * xv / xmax, h - bottom + 16, xv));
    }
    double ystep = tick(ymax);
    for (double yv = 0; yv <= ymax; yv += ystep) {
      s.append(String.format(Locale.ROOT, "<text x='%d' y='%.0f' text-anchor='end'>%.0f</text>%n", left - 6, h - bottom - ph * yv / ymax + 4, yv));
    }
    s.append(String.format(Locale.ROOT, "<text x='%.0f' y='%d' text-anchor='middle'>seconds since the first warning</text>%n",
        left + pw / 2, h - 12));
    s.append(String.format(Locale.ROOT, "<text x='16' y='%.0f' transform='rotate(-90 16 %.0f)' text-anchor='middle'>VMs (cumulative)</text>%n",
        top + ph / 2, top + ph / 2));
    s.append(step(deadlines, xmax, ymax, left, top, pw, ph, "#888", "6,3"));
    s.append(step(done, xmax, ymax, left, top, pw, ph, "#1f77b4", null));
    for (double m : missed) {
      double x = left + pw * m / xmax;
      double y = h - bottom - 6;
      s.append(String.format(Locale.ROOT, "<path d='M%.1f %.1f l6 6 m0 -6 l-6 6' stroke='red' stroke-width='1.5'/>%n", x - 3, y - 3));
    }
    int ly = top + 10;
    s.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#1f77b4' stroke-width='2'/><text x='%d' y='%d'>evacuated in time (%d)</text>%n",
        left + 10, ly, left + 40, ly, left + 46, ly + 4, done.size()));
    s.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#888' stroke-dasharray='6,3' stroke-width='2'/><text x='%d' y='%d'>deadlines passed (%d)</text>%n",
        left + 10, ly + 18, left + 40, ly + 18, left + 46, ly + 22, deadlines.size()));
    s.append(String.format(Locale.ROOT, "<text x='%d' y='%d' fill='red'>× missed (%d), at their deadline</text>%n", left + 10, ly + 40, missed.size()));
    s.append("</svg>\n");
    Files.writeString(file, s);
  }

  /** A round step (1, 2 or 5 × 10^n) giving about five ticks up to {@code max}. */
  static double tick(double max) {
    double raw = max / 5;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double n = raw / magnitude;
    return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * magnitude;
  }

  private static String step(List<Double> xs, double xmax, double ymax, int left, int top, double pw, double ph, String color, String dash) {
    StringBuilder d = new StringBuilder(String.format(Locale.ROOT, "M%d %.1f", left, top + ph));
    for (int i = 0; i < xs.size(); i++) {
      double x = left + pw * xs.get(i) / xmax;
      d.append(String.format(Locale.ROOT, " H%.1f V%.1f", x, top + ph - ph * (i + 1) / ymax));
    }
    return String.format(Locale.ROOT, "<path d='%s' fill='none' stroke='%s' stroke-width='2'%s/>%n", d, color,
        dash == null ? "" : " stroke-dasharray='" + dash + "'");
  }

  private static double seconds(Instant t0, Instant t) {
    return Duration.between(t0, t).toMillis() / 1000.0;
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
