package io.ferry.nodeagent.driver.qemu;

import io.ferry.nodeagent.driver.HypervisorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * An image folder: {@code base.qcow2}, optionally {@code kernel}, {@code initrd} and
 * {@code cmdline} for direct kernel boot, and {@code min_memory_mib}, the least memory it boots in.
 */
record QemuImage(String name, Path base, Path kernel, Path initrd, String cmdline, int minMemoryMiB) {

  static QemuImage find(Path imagesDir, String name) {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new HypervisorException("image name '" + name + "' is not valid: use letters, digits, '.', '_', '-'");
    }
    Path dir = imagesDir.resolve(name);
    Path base = dir.resolve("base.qcow2");
    if (!Files.isRegularFile(base)) {
      throw new HypervisorException("image '" + name + "' does not exist: there is no " + base
          + ". Images in " + imagesDir + ": " + available(imagesDir)
          + ". (Ferry's test guest is built with ops/guest.sh.)");
    }
    Path kernel = dir.resolve("kernel");
    Path initrd = dir.resolve("initrd");
    try {
      String cmdline = Files.isRegularFile(dir.resolve("cmdline")) ? Files.readString(dir.resolve("cmdline")).trim() : "";
      int min = Files.isRegularFile(dir.resolve("min_memory_mib"))
          ? Integer.parseInt(Files.readString(dir.resolve("min_memory_mib")).trim()) : 0;
      return new QemuImage(name, base, Files.isRegularFile(kernel) ? kernel : null,
          Files.isRegularFile(initrd) ? initrd : null, cmdline, min);
    } catch (IOException | NumberFormatException e) {
      throw new HypervisorException("image '" + name + "' in " + dir + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static String available(Path imagesDir) {
    try (Stream<Path> dirs = Files.list(imagesDir)) {
      String names = dirs.filter(d -> Files.isRegularFile(d.resolve("base.qcow2")))
          .map(d -> d.getFileName().toString()).sorted().collect(Collectors.joining(", "));
      return names.isEmpty() ? "none" : names;
    } catch (IOException e) {
      return "none (the folder cannot be read)";
    }
  }
}
