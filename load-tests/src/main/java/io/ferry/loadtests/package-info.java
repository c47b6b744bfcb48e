/**
 * Ferry's benchmarks (run with {@code ops/bench}; see the module's README.md). They report
 * numbers and assert nothing about time.
 * <ul>
 *   <li>{@link io.ferry.loadtests.ScaleBenchmark} ({@code ops/bench scale}): a simulated cluster —
 *       {@link io.ferry.loadtests.sim.SimHost} members running real node agents on the process-less
 *       driver, a control member in its own JVM ({@link io.ferry.loadtests.sim.SimControl}) with the
 *       {@link io.ferry.loadtests.sim.SimulatedBatchSystem}, the real Cassandra journal — driven
 *       through the HTTP API by {@link io.ferry.loadtests.ScaleWorkload} and read back from the
 *       journal by {@link io.ferry.loadtests.ScaleAnalysis};
 *   <li>{@link io.ferry.loadtests.MigrationBenchmark} and {@link io.ferry.loadtests.EvacuationBenchmark}
 *       ({@code ops/bench migration|evacuation}): real QEMU, against the bare-QMP baseline
 *       {@code load-tests/scripts/bare-migrate.py};
 *   <li>{@link io.ferry.loadtests.StreamLagBenchmark} ({@code ops/bench stream-lag}).
 * </ul>
 */
package io.ferry.loadtests;
