package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;
import java.util.List;
import java.util.Optional;

/**
 * A VM size, after WNoDeS' fixed flavours. {@code whole-node} takes every core and all memory of
 * its timeslot; its {@code vcpus} and {@code memoryMiB} are 0 until placement fills them in.
 *
 * @param name      the flavour's name as users type it
 * @param vcpus     virtual CPUs
 * @param memoryMiB guest memory in MiB (96 MiB is the smallest a Debian kernel boots in)
 */
public record Flavour(String name, int vcpus, int memoryMiB) implements FerrySerializable {
  public static final Flavour TINY = new Flavour("tiny", 1, 128);
  public static final Flavour SMALL = new Flavour("small", 1, 2048);
  public static final Flavour MEDIUM = new Flavour("medium", 2, 4096);
  public static final Flavour LARGE = new Flavour("large", 4, 8192);
  public static final Flavour XLARGE = new Flavour("xlarge", 8, 16384);
  public static final Flavour WHOLE_NODE = new Flavour("whole-node", 0, 0);

  public static final List<Flavour> ALL = List.of(TINY, SMALL, MEDIUM, LARGE, XLARGE, WHOLE_NODE);

  public static Optional<Flavour> named(String name) {
    return ALL.stream().filter(f -> f.name.equals(name)).findFirst();
  }

  public boolean wholeNode() {
    return vcpus == 0 && memoryMiB == 0;
  }
}
