/**
 * The node agent: joins the cluster as role {@code agent} inside a batch job, drives QEMU over QMP
 * through the {@code HypervisorDriver} interface ({@code driver}), hosts the entities of the VMs
 * whose QEMU runs on its node, and fences itself when ordered to or when it can no longer know
 * ({@code agent}).
 */
package io.ferry.nodeagent;
