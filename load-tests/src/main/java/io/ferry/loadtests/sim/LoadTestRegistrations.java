package io.ferry.loadtests.sim;

import static io.ferry.journal.serialization.KryoRegistrations.Entry.of;

import io.ferry.journal.serialization.KryoRegistrations;
import java.util.List;

/** Kryo ids of the load tests' messages (range 4000–4999): the simulated hosts' commands, which cross the wire, and the journal probe's event. */
public final class LoadTestRegistrations implements KryoRegistrations {
  @Override
  public List<Entry> entries() {
    return List.of(
        of(4000, SimHost.StartNode.class),
        of(4001, SimHost.WarnNode.class),
        of(4002, SimHost.EndNode.class),
        of(4003, io.ferry.loadtests.JournalProbe.ProbeEvent.class));
  }
}
