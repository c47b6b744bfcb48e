package io.ferry.nodeagent.driver.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the serial console of Ferry's test guest ({@code ops/guest.sh}), whose init prints
 * {@code CNT <n> boot=<id>} every 100 ms. A guest that really continued after a migration or a
 * resume goes on counting with the same boot id on the new QEMU, without booting again.
 */
public final class GuestConsole {
  private static final Pattern COUNT = Pattern.compile("CNT (\\d+) boot=([0-9a-f]+)");

  /** One counter line. */
  public record Count(long n, String boot) {}

  private GuestConsole() {}

  /**
   * Every complete counter line of a console log, in order: a line the guest is still writing
   * ("CNT 7 boot=3f" of "boot=3fa9…", no newline yet) is not one.
   */
  public static List<Count> counts(Path console) {
    List<Count> counts = new ArrayList<>();
    try {
      String text = Files.readString(console, java.nio.charset.StandardCharsets.ISO_8859_1); // never malformed
      // up to the last line break (the serial console ends lines with \r\n): what follows it is
      // a line not yet finished
      int end = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
      for (String line : text.substring(0, end + 1).lines().toList()) {
        Matcher m = COUNT.matcher(line);
        if (m.find() && line.endsWith(m.group())) counts.add(new Count(Long.parseLong(m.group(1)), m.group(2)));
      }
    } catch (IOException e) {
      return counts;
    }
    return counts;
  }

  /** Whether the guest printed its boot banner on this console (it booted there). */
  public static boolean booted(Path console) {
    try {
      return Files.readString(console).contains("FERRY-GUEST booted");
    } catch (IOException e) {
      return false;
    }
  }

  /** The last counter line, or {@code null} if there is none yet. */
  public static Count last(Path console) {
    List<Count> counts = counts(console);
    return counts.isEmpty() ? null : counts.get(counts.size() - 1);
  }
}
