package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;

/** How a VM relates to timeslots (from the User Domains paper). */
public enum VmMode implements FerrySerializable {
  /** The VM lives and dies with the one timeslot it was placed on. */
  STATIC,
  /** The VM is ferried from timeslot to timeslot before each one ends. */
  DYNAMIC
}
