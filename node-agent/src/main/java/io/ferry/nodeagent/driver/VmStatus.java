package io.ferry.nodeagent.driver;

/** What a VM's hypervisor process is doing. */
public enum VmStatus {
  RUNNING,
  PAUSED,
  /** Waiting for an incoming migration or resume. */
  INCOMING,
  /** A migration out is in progress (the guest still runs). */
  MIGRATING,
  /** Migrated or saved away; the process only waits to be stopped. */
  FINISHED,
  /** The process no longer exists. */
  GONE
}
