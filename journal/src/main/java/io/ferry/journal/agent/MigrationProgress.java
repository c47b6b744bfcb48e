package io.ferry.journal.agent;

import io.ferry.journal.FerrySerializable;

/**
 * Live progress of a migration, streamed to whoever asked for it and never journaled.
 * {@code percent} never decreases within one migration.
 */
public record MigrationProgress(String vmId, int percent, long transferredBytes, long remainingBytes)
    implements FerrySerializable {}
