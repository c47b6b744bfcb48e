/**
 * The simulated cluster of the scale benchmark: a fake batch system
 * ({@link io.ferry.loadtests.sim.SimulatedBatchSystem}, backend {@code sim}) whose jobs run real
 * node agents with the process-less hypervisor driver on a few agent members
 * ({@link io.ferry.loadtests.sim.SimHost}), and the control member that uses it
 * ({@link io.ferry.loadtests.sim.SimControl}). Named "simulated" throughout: nothing here runs a
 * VM. Its messages have Kryo ids 4000–4999 ({@link io.ferry.loadtests.sim.LoadTestRegistrations}).
 */
package io.ferry.loadtests.sim;
