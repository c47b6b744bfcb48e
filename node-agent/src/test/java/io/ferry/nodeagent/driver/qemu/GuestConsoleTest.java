package io.ferry.nodeagent.driver.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the test guest's counter lines off a serial console log. */
class GuestConsoleTest {
  @TempDir Path dir;

  @Test
  void completeLinesCountWhateverTheirLineEndAndALineStillBeingWrittenDoesNot() throws Exception {
    Path log = dir.resolve("console.log");
    // the serial console ends lines with \r\n; the last line is cut in the middle of its boot id
    Files.writeString(log, "Linux booting\r\nCNT 1 boot=3fa9c1\r\nnoise CNT 2 boot=3fa9c1\r\nCNT 3 boot=3f");
    assertEquals(List.of(new GuestConsole.Count(1, "3fa9c1"), new GuestConsole.Count(2, "3fa9c1")), GuestConsole.counts(log));
    Files.writeString(log, "CNT 1 boot=3fa9c1\nCNT 2 boot=3fa9c1\n");
    assertEquals(2, GuestConsole.counts(log).size(), "plain newlines too");
    Files.write(log, new byte[] {'C', 'N', 'T', ' ', '4', ' ', 'b', 'o', 'o', 't', '=', 'a', 'b', '\r', '\n', (byte) 0xff, '\n'});
    assertEquals(List.of(new GuestConsole.Count(4, "ab")), GuestConsole.counts(log), "bytes that are not UTF-8 do not hide the lines");
    assertEquals(List.of(), GuestConsole.counts(dir.resolve("missing.log")));
  }
}
