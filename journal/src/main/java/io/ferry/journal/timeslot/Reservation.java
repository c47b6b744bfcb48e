package io.ferry.journal.timeslot;

import io.ferry.journal.FerrySerializable;

/** Capacity a VM holds on a timeslot. */
public record Reservation(String vmId, int vcpus, int memoryMiB) implements FerrySerializable {}
