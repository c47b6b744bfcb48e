package io.ferry.loadtests.chaos;

/** The operation a case breaks. */
enum Op {
  /** POST /v1/vms/ID/migrate to the case's second timeslot. */
  MIGRATE("Migrating"),
  /** POST /v1/vms/ID/suspend. */
  SUSPEND("Suspending"),
  /** POST /v1/vms/ID/resume onto the second timeslot, of a VM suspended first. */
  RESUME("Resuming"),
  /** The source timeslot's walltime ends: its expiry warning makes Ferry evacuate the VM to the second timeslot. */
  EVACUATE("Migrating");

  /** The VM's stage while the operation is in flight. */
  final String inFlight;

  Op(String inFlight) {
    this.inFlight = inFlight;
  }
}
