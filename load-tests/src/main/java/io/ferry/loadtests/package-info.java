/**
 * Load tests and benchmarks (to come, see the load-tests issue): simulated clusters on the
 * process-less hypervisor driver against the real Cassandra journal, and real-QEMU benchmarks.
 */
package io.ferry.loadtests;
