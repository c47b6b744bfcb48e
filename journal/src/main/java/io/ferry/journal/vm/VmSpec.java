package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;
import java.util.Objects;

/**
 * What a user asked for when creating a VM; it never changes afterwards.
 *
 * @param owner   the user who owns the VM
 * @param flavour its size
 * @param image   the base image the VM's copy-on-write overlay is made from
 * @param mode    static (one timeslot) or dynamic (ferried between timeslots)
 */
public record VmSpec(String owner, Flavour flavour, String image, VmMode mode) implements FerrySerializable {
  public VmSpec {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(flavour, "flavour");
    Objects.requireNonNull(image, "image");
    mode = mode == null ? VmMode.DYNAMIC : mode;
  }
}
