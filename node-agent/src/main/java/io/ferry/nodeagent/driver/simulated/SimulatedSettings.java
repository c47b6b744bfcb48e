package io.ferry.nodeagent.driver.simulated;

import java.util.Set;

/**
 * The process-less driver's model (keys {@code ferry.agent.simulated.*}).
 *
 * @param node            the node it pretends to run on
 * @param linkBytesPerSec network bandwidth between nodes for migrations
 * @param diskBytesPerSec shared-storage bandwidth for suspend and resume
 * @param downtimeMs      the switch-over pause it reports
 * @param minMemoryMiB    the least memory a VM may have
 * @param images          the image names it accepts
 * @param speedup         how much faster than real time the model runs (1 = real time)
 */
public record SimulatedSettings(String node, long linkBytesPerSec, long diskBytesPerSec, long downtimeMs,
    int minMemoryMiB, Set<String> images, double speedup) {
  public static SimulatedSettings defaults(String node) {
    return new SimulatedSettings(node, 1L << 30, 1L << 30, 20, 96, Set.of("tiny"), 1.0);
  }
}
