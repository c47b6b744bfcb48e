package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;

/**
 * QEMU's own figures for a finished live migration.
 *
 * @param totalMs      total time from start to switch-over
 * @param downtimeMs   time the guest was paused
 * @param transferredBytes bytes sent over the migration stream
 */
public record MigrationStats(long totalMs, long downtimeMs, long transferredBytes) implements FerrySerializable {}
