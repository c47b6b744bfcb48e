/**
 * The node agent (to come, see the node-agent issue): joins the cluster as role {@code agent}
 * inside a batch job, drives QEMU over QMP through the {@code HypervisorDriver} interface, hosts
 * the shards of the VMs whose QEMU runs on its node, and fences itself when downed.
 */
package io.ferry.nodeagent;
