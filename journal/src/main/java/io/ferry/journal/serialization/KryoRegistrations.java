package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Serializer;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A module's list of classes that Kryo may write, each with a fixed id.
 *
 * <p>Providers are found with {@link java.util.ServiceLoader}: a module lists its provider in
 * {@code META-INF/services/io.ferry.journal.serialization.KryoRegistrations}. Ids are written into
 * the journal, so an id is permanent: never change or reuse one, even after its class is deleted
 * (leave a comment in its place). Each module keeps to its own range (journal 100–999,
 * control-plane 1000–1999, node-agent 2000–2999, policies 3000–3999, load-tests 4000–4999) so two
 * modules never collide; a collision is an error at start that names both classes.
 */
public interface KryoRegistrations {

  /** The registrations of this module. */
  List<Entry> entries();

  /**
   * One class and its id. Records get {@link EvolvableRecordSerializer} and enums
   * {@link EnumByNameSerializer} unless a serializer is given.
   */
  record Entry(int id, Class<?> type, Function<Class<?>, Serializer<?>> serializer) {
    public Entry {
      Objects.requireNonNull(type, "type");
      if (id < FerryKryo.FIRST_MODULE_ID) {
        throw new IllegalArgumentException(
            "Kryo id " + id + " for " + type.getName() + " is below " + FerryKryo.FIRST_MODULE_ID
                + ": ids below it are Ferry's built-in types");
      }
    }

    public static Entry of(int id, Class<?> type) {
      return new Entry(id, type, null);
    }

    public static Entry of(int id, Class<?> type, Function<Class<?>, Serializer<?>> serializer) {
      return new Entry(id, type, serializer);
    }
  }
}
