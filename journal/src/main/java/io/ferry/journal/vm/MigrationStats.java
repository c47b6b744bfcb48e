package io.ferry.journal.vm;

import io.ferry.journal.FerrySerializable;

/**
 * QEMU's own figures for a finished live migration.
 *
 * @param totalMs      total time from start to switch-over, QEMU's own figure (or, should QEMU not
 *     give one, Ferry's measurement of the whole migration); never 0
 * @param downtimeMs   time the guest was paused; -1 when QEMU did not say (never 0 for "unknown")
 * @param transferredBytes bytes sent over the migration stream
 */
public record MigrationStats(long totalMs, long downtimeMs, long transferredBytes) implements FerrySerializable {}
