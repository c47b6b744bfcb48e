package io.ferry.nodeagent.driver.qemu;

import io.ferry.nodeagent.driver.HypervisorException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The QEMU driver's settings (keys {@code ferry.agent.qemu.*} in the node agent's reference.conf).
 *
 * @param binary        the QEMU system emulator
 * @param qemuImg       qemu-img, for overlays
 * @param accel         the accelerator: "tcg" (software; works everywhere) or "kvm"
 * @param imagesDir     where image folders are (see {@code ops/guest.sh})
 * @param stateDir      this node's folder for QMP sockets, console logs and QEMU's output; its path
 *                      must be short (unix socket paths are limited to 107 bytes)
 * @param sharedDir     storage every node sees: overlays and suspend files
 * @param migrationHost the address incoming migrations listen on (this node's address)
 * @param qmpTimeout    how long QEMU may take to open and answer its QMP socket
 * @param resumeTimeout how long loading a suspend file may take
 * @param suspendTimeout how long writing a suspend file may take
 */
public record QemuSettings(String binary, String qemuImg, String accel, Path imagesDir, Path stateDir,
    Path sharedDir, String migrationHost, Duration qmpTimeout, Duration resumeTimeout, Duration suspendTimeout) {
  public QemuSettings {
    if (!accel.equals("tcg") && !accel.equals("kvm")) {
      throw new HypervisorException("accelerator '" + accel + "' is not supported: use tcg or kvm");
    }
    if (stateDir.toAbsolutePath().toString().length() > 70) {
      throw new HypervisorException("the agent's state folder " + stateDir + " is too long for QMP sockets"
          + " (unix socket paths are limited to 107 bytes): use a path of at most 70 characters");
    }
  }
}
