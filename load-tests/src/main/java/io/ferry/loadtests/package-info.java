/**
 * Benchmarks. {@link io.ferry.loadtests.StreamLagBenchmark} measures the event stream's lag from
 * persist to subscriber ({@code ops/bench stream-lag}). Simulated clusters at scale on the
 * process-less hypervisor driver come with the load-tests issue.
 */
package io.ferry.loadtests;
