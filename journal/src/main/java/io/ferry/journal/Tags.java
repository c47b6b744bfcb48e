package io.ferry.journal;

import java.util.Set;

/**
 * Tags written with every event, so the event stream can be read per entity type with
 * {@code eventsByTag}.
 *
 * <p>Today there is one tag per entity type. The Cassandra plugin stores a tag's events in one
 * partition per time bucket, so a very busy type makes a hot partition. The plan when that is
 * measured to matter: add sliced tags ({@code vm-0 … vm-N}, slice = hash(id) mod N) next to the
 * plain ones for new events, let readers merge the slices, and drop the plain tag once every
 * reader has moved. Tags are only ever added, never renamed, so old events stay reachable.
 */
public final class Tags {
  public static final String VM = "vm";
  public static final String TIMESLOT = "timeslot";
  public static final String NODE = "node";

  /**
   * Policy scripts' versions. Not (yet) part of {@link #ALL}: the event stream's offsets cover the
   * three entity types above; the catalog follows this tag on its own.
   */
  public static final String POLICY = "policy";

  /** Every entity-type tag, in the order the event stream documents them. */
  public static final Set<String> ALL = Set.of(VM, TIMESLOT, NODE);

  private Tags() {}
}
