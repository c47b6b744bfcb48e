package io.ferry.journal.node;

import io.ferry.journal.FerrySerializable;
import java.util.Set;

/**
 * What a node offers, as its agent reports it.
 *
 * @param cores        cores Ferry may use on the node
 * @param memoryMiB    memory Ferry may use, in MiB
 * @param capabilities what the hypervisor driver can do, for example {@code "qemu"},
 *                     {@code "accel:tcg"}, {@code "postcopy"}
 */
public record NodeCapacity(int cores, int memoryMiB, Set<String> capabilities) implements FerrySerializable {
  public NodeCapacity {
    capabilities = capabilities == null ? Set.of() : Set.copyOf(capabilities);
  }
}
