package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;
import java.util.Objects;

/** Where a VM runs or is to run: a timeslot and the node that timeslot holds. */
public record Placement(String timeslotId, String nodeId) implements FerrySerializable {
  public Placement {
    Objects.requireNonNull(timeslotId, "timeslotId");
    Objects.requireNonNull(nodeId, "nodeId");
  }

  @Override
  public String toString() {
    return timeslotId + "@" + nodeId;
  }
}
