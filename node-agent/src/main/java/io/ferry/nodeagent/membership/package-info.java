/**
 * Cluster membership: who is downed when members cannot reach each other. Every Ferry member runs
 * Pekko's Split Brain Resolver with Ferry's strategy, {@link io.ferry.nodeagent.membership.ControlMajority}
 * (keep-majority over control members, counting only control members' observations), through
 * {@link io.ferry.nodeagent.membership.FerryDowningProvider}. What a downed agent then does (kill its
 * QEMUs, or keep them while it rejoins) is {@code io.ferry.nodeagent.agent.Fencing} and
 * {@code FenceLease}.
 */
package io.ferry.nodeagent.membership;
