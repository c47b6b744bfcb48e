package io.ferry.loadtests.chaos;

/** What the campaign breaks, and how it undoes it (the part an operator or the batch system would). */
enum Fault {
  /** kill -9 of the QEMU that runs the guest. Nothing restarts it but Ferry. */
  QEMU_KILL("kill -9 of the VM's QEMU"),
  /** kill -9 of the agent of the VM's node (the Slurm job then ends). */
  SOURCE_AGENT_KILL("kill -9 of the source agent"),
  /** kill -9 of the agent of the target timeslot's node. */
  TARGET_AGENT_KILL("kill -9 of the target agent"),
  /** kill -9 of the oldest control member (of 3: it hosts the singletons); started again 15 s later. */
  MEMBER_KILL("kill -9 of a control member (of 3), restarted after 15 s"),
  /** SIGSTOP of the oldest control member for 15 s (past the failure detector and stable-after), then SIGCONT. */
  MEMBER_FREEZE("a control member (of 3) frozen 15 s"),
  /** Every control member stopped (SIGTERM), then all started again. */
  CONTROL_RESTART("the whole control plane stopped and started"),
  /**
   * A rolling restart (an upgrade): each control member in turn, the oldest first, stopped with
   * SIGTERM (it leaves) and started again, the next one once it is up.
   */
  ROLLING_RESTART("a rolling restart of the 3 control members"),
  /** kill -9 of Cassandra; started again 20 s later. */
  CASSANDRA_KILL("kill -9 of Cassandra for 20 s"),
  /** The source node's veth down for 30 s: its agent and QEMU run on, cut off from everything. */
  SOURCE_PARTITION("the source node cut off for 30 s");

  final String text;

  Fault(String text) {
    this.text = text;
  }
}
