package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;

/**
 * What every stage of a VM knows.
 *
 * @param vmId      the VM's id
 * @param spec      what the user asked for
 * @param placement where it runs or is to run; {@code null} while it runs nowhere
 * @param lastImage the last suspend image on shared storage, or {@code null} if it has none
 * @param attempt   the identity of the last side effect begun (a start, migration, suspend, resume
 *     or stop): agents echo it in their reports, and a report of another attempt is ignored.
 *     {@code null} only in journals written before attempts existed.
 */
public record VmFacts(String vmId, VmSpec spec, Placement placement, String lastImage, String attempt)
    implements FerrySerializable {
  public VmFacts withPlacement(Placement newPlacement) {
    return new VmFacts(vmId, spec, newPlacement, lastImage, attempt);
  }

  public VmFacts withLastImage(String image) {
    return new VmFacts(vmId, spec, placement, image, attempt);
  }

  public VmFacts withAttempt(String newAttempt) {
    return new VmFacts(vmId, spec, placement, lastImage, newAttempt == null ? attempt : newAttempt);
  }
}
