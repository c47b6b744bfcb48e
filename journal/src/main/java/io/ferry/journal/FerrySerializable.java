package io.ferry.journal;

/**
 * Marker for everything Ferry persists or sends between cluster members.
 *
 * <p>Pekko binds this interface to {@link io.ferry.journal.serialization.KryoSerializer}
 * (see {@code reference.conf}). Every implementing class must also be registered with a fixed id
 * in a {@link io.ferry.journal.serialization.KryoRegistrations} provider; an unregistered class
 * fails with an error that names it. Persisted types should be records: their fields are written
 * by name, so a field can be added later and old journal entries still decode.
 */
public interface FerrySerializable {}
