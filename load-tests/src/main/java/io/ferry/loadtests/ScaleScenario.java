package io.ferry.loadtests;

import java.time.Duration;

/**
 * The shape of a scale run (see {@code ops/bench scale --help}).
 *
 * @param vms           VMs, of mixed flavours ({@link ScaleWorkload#MIX})
 * @param nodes         nodes of the simulated cluster
 * @param hosts         agent members the nodes' agents are spread over
 * @param users         users; VMs and timeslots are dealt round-robin
 * @param slots         initial timeslots (one node each)
 * @param slotCores     cores each timeslot asks for
 * @param slotMemoryMiB memory each timeslot asks for
 * @param waves         the initial timeslots expire in this many waves
 * @param waveInterval  time between waves
 * @param firstExpiry   walltime of the first wave's timeslots
 * @param jitter        each walltime is off by up to ± this
 * @param warningLead   the batch system's warning before a timeslot's end
 * @param grantDelay    least time from a timeslot's request to its start
 * @param scarcity      share of the nodes held by other users' jobs
 * @param replace       users ask for a replacement timeslot whenever one starts expiring
 * @param tail          how long the run goes on after the last wave's end
 * @param seed          seed of the flavour draw and the jitter
 */
record ScaleScenario(int vms, int nodes, int hosts, int users, int slots, int slotCores, int slotMemoryMiB, int waves,
    Duration waveInterval, Duration firstExpiry, Duration jitter, Duration warningLead, Duration grantDelay, double scarcity,
    boolean replace, Duration tail, long seed) {

  ScaleScenario {
    if (vms < 1 || nodes < 1 || hosts < 1 || users < 1 || slots < 1 || waves < 1) {
      throw new IllegalArgumentException("vms, nodes, hosts, users, slots and waves must all be at least 1");
    }
    int free = nodes - (int) Math.round(nodes * scarcity);
    if (slots > free) {
      throw new IllegalArgumentException(slots + " timeslots do not fit on the " + free + " nodes other users leave free ("
          + nodes + " nodes, scarcity " + scarcity + "): use fewer --slots or more --nodes");
    }
    if (firstExpiry.compareTo(warningLead) <= 0) {
      throw new IllegalArgumentException("the first expiry (" + firstExpiry.toSeconds() + " s) must be after the warning lead ("
          + warningLead.toSeconds() + " s)");
    }
  }

  /** How long the initial timeslots last at most. */
  Duration lastExpiry() {
    return firstExpiry.plus(waveInterval.multipliedBy(waves - 1)).plus(jitter);
  }
}
