package io.ferry.journal.testing;

import java.util.UUID;

/**
 * Journal keyspaces for tests: one per run, so that a test never reads a journal an earlier build
 * left behind (its state may not be readable by this one, for example the Vm shard coordinator's).
 */
public final class TestKeyspaces {
  private TestKeyspaces() {}

  /** {@code prefix} followed by a random suffix, a valid CQL keyspace name. */
  public static String fresh(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().substring(0, 8);
  }
}
