package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;

/**
 * What every stage of a VM knows.
 *
 * @param vmId      the VM's id
 * @param spec      what the user asked for
 * @param placement where it runs or is to run; {@code null} while it runs nowhere
 * @param lastImage the last suspend image on shared storage, or {@code null} if it has none
 */
public record VmFacts(String vmId, VmSpec spec, Placement placement, String lastImage) implements FerrySerializable {
  public VmFacts withPlacement(Placement newPlacement) {
    return new VmFacts(vmId, spec, newPlacement, lastImage);
  }

  public VmFacts withLastImage(String image) {
    return new VmFacts(vmId, spec, placement, image);
  }
}
