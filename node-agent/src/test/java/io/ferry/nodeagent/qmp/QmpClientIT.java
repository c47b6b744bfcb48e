package io.ferry.nodeagent.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.nodeagent.driver.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QMP client against real QEMU: handshake, commands, QEMU's own errors and events. */
class QmpClientIT {
  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ALWAYS) Path dir;

  @Test
  void talksToRealQemu() throws Exception {
    Path tiny = TestImages.dir().resolve("tiny");
    Path socket = Files.createTempDirectory(Path.of("/tmp"), "qmp").resolve("q.sock");
    Process qemu = new ProcessBuilder(List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "128M", "-nodefaults",
        "-display", "none", "-kernel", tiny.resolve("kernel").toString(), "-initrd", tiny.resolve("initrd").toString(),
        "-qmp", "unix:" + socket + ",server=on,wait=off")).redirectErrorStream(true)
        .redirectOutput(dir.resolve("qemu.out").toFile()).start();
    try (QmpClient client = QmpClient.connect(socket, Duration.ofSeconds(10))) {
      assertEquals(7, client.execute("query-version").path("qemu").path("major").asInt());
      assertEquals("running", client.execute("query-status").path("status").asText());

      var events = new LinkedBlockingQueue<QmpEvent>();
      client.addEventListener(events::add);
      client.execute("stop");
      assertEquals("STOP", events.poll(5, TimeUnit.SECONDS).name());
      assertEquals("paused", client.execute("query-status").path("status").asText());

      var unknown = assertThrows(QmpException.QemuError.class, () -> client.execute("no-such-command"));
      assertEquals("CommandNotFound", unknown.errorClass());
      var bad = assertThrows(QmpException.QemuError.class, () -> client.execute("migrate", Map.of("uri", "bogus:x")));
      assertTrue(bad.getMessage().contains("QEMU refused migrate"), bad.getMessage());

      client.execute("quit");
      client.whenClosed().get(5, TimeUnit.SECONDS);
      assertThrows(QmpException.ConnectionLost.class, () -> client.execute("query-status"));
    } finally {
      qemu.destroyForcibly();
      Files.deleteIfExists(socket);
      Files.deleteIfExists(socket.getParent());
    }
  }
}
