package io.ferry.nodeagent.driver.qemu;

import io.ferry.nodeagent.driver.HypervisorException;
import io.ferry.nodeagent.driver.VmHandle;
import io.ferry.nodeagent.driver.VmLaunch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One QEMU command line. Source and target of a migration are started from the same launch, so
 * their devices match; only {@code -incoming} differs.
 */
record QemuCommand(List<String> arguments, String instance, Path qmpSocket, Path console, Path stderr) {

  static QemuCommand of(QemuSettings s, VmLaunch launch, QemuImage image, Path overlay, String incoming) {
    String instance = "i" + Long.toString(System.currentTimeMillis(), 36) + Integer.toString(ThreadLocalRandom.current().nextInt(1296), 36);
    Path dir = s.stateDir().resolve(launch.vmId());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new HypervisorException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    Path qmp = s.stateDir().resolve(instance + ".qmp");
    Path console = dir.resolve(instance + ".console.log");
    Path stderr = dir.resolve(instance + ".stderr");
    List<String> a = new ArrayList<>(List.of(s.binary(),
        "-name", "ferry-" + launch.vmId(),
        "-accel", s.accel(),
        "-m", launch.memoryMiB() + "M",
        "-smp", String.valueOf(launch.vcpus()),
        "-nodefaults", "-no-user-config", "-display", "none",
        "-drive", "file=" + overlay + ",if=none,id=disk0,format=qcow2",
        "-device", "virtio-blk-pci,drive=disk0",
        "-serial", "file:" + console,
        "-qmp", "unix:" + qmp + ",server=on,wait=off"));
    if (image.kernel() != null) {
      a.addAll(List.of("-kernel", image.kernel().toString()));
      if (image.initrd() != null) a.addAll(List.of("-initrd", image.initrd().toString()));
      if (!image.cmdline().isEmpty()) a.addAll(List.of("-append", image.cmdline()));
    }
    if (incoming != null) a.addAll(List.of("-incoming", incoming));
    return new QemuCommand(List.copyOf(a), instance, qmp, console, stderr);
  }

  /** Whether a process is the QEMU of this handle (and not a later process with a reused pid). */
  static boolean isOurs(ProcessHandle process, VmHandle handle) {
    try {
      String cmdline = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "cmdline"), StandardCharsets.UTF_8);
      return cmdline.contains(handle.attribute("qmp"));
    } catch (IOException e) {
      return false;
    }
  }

  /** The last lines of QEMU's output, for error messages. */
  static String tail(Path stderr) {
    try {
      List<String> lines = Files.readAllLines(stderr);
      List<String> last = lines.subList(Math.max(0, lines.size() - 8), lines.size());
      return last.isEmpty() ? "QEMU printed nothing." : "QEMU said: " + String.join(" | ", last);
    } catch (IOException e) {
      return "(its output " + stderr + " cannot be read)";
    }
  }

  /** Paths go into shell commands of exec: migrations, so keep them to safe characters. */
  static void checkPath(Path file) {
    if (!file.toString().matches("[A-Za-z0-9/._-]+")) {
      throw new HypervisorException("suspend file path " + file + " may only contain letters, digits, '/', '.', '_', '-'");
    }
  }

  static void run(List<String> command, String what) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0) throw new HypervisorException(what + " failed: " + String.join(" ", command) + ": " + output);
    } catch (IOException e) {
      throw new HypervisorException(what + " failed: cannot run " + command.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HypervisorException(what + " was interrupted", e);
    }
  }
}
