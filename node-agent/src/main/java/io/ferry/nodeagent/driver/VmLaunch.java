package io.ferry.nodeagent.driver;

import java.util.Objects;

/**
 * How to run a VM: its id, size and image. The same launch starts the source and, for a
 * migration or a resume, the target, so both sides are identical machines.
 *
 * @param vmId      the VM's id
 * @param vcpus     virtual CPUs
 * @param memoryMiB guest memory in MiB
 * @param image     the image's name in the driver's images folder
 */
public record VmLaunch(String vmId, int vcpus, int memoryMiB, String image) {
  public VmLaunch {
    Objects.requireNonNull(vmId, "vmId");
    Objects.requireNonNull(image, "image");
    if (!vmId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new HypervisorException("VM id '" + vmId + "' is not usable as a file name: use letters, digits, '.', '_', '-' (at most 64)");
    }
    if (vcpus <= 0) throw new HypervisorException("VM " + vmId + " needs at least 1 vCPU, was given " + vcpus);
    if (memoryMiB <= 0) throw new HypervisorException("VM " + vmId + " needs memory, was given " + memoryMiB + " MiB");
  }
}
