package io.ferry.journal.serialization;

import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Builds a sample value of any persisted type from its shape alone, so that a serialization test
 * covers a new class the moment it exists, with no list to keep up to date. Every field gets a
 * non-default value, so a field that fails to round-trip shows up as a difference.
 */
public final class Samples {
  private final ActorRef<?> actorRef;

  /** @param actorRef the value for fields of type {@code ActorRef} (a test probe's) */
  public Samples(ActorRef<?> actorRef) {
    this.actorRef = actorRef;
  }

  public Object of(Class<?> type) {
    return of(type, type, 0);
  }

  private Object of(Class<?> raw, Type generic, int depth) {
    if (depth > 8) throw new IllegalStateException("type nests too deeply: " + generic);
    if (raw == String.class) return "s" + depth;
    if (raw == int.class || raw == Integer.class) return 7 + depth;
    if (raw == long.class || raw == Long.class) return 70_000_000_000L + depth;
    if (raw == boolean.class || raw == Boolean.class) return true;
    if (raw == double.class || raw == Double.class) return 1.5;
    if (raw == Instant.class) return Instant.parse("2026-11-24T07:30:00.123456789Z");
    if (raw == Duration.class) return Duration.ofSeconds(90, 5);
    if (raw == UUID.class) return new UUID(1, 2);
    if (raw == byte[].class) return new byte[] {1, 2, 3};
    if (ActorRef.class.isAssignableFrom(raw)) return actorRef;
    if (raw.isEnum()) {
      Object[] constants = raw.getEnumConstants();
      return constants[constants.length - 1];
    }
    if (raw == List.class) return List.of(element(generic, 0, depth));
    if (raw == Set.class) return Set.of(element(generic, 0, depth));
    if (raw == Map.class) return Map.of(element(generic, 0, depth), element(generic, 1, depth));
    if (raw.isRecord()) return record(raw, depth);
    if (raw.isSealed()) {
      Class<?> first = raw.getPermittedSubclasses()[0];
      return of(first, first, depth + 1);
    }
    throw new IllegalStateException("Samples cannot build a " + generic
        + ": teach io.ferry.journal.serialization.Samples this type");
  }

  private Object record(Class<?> type, int depth) {
    RecordComponent[] components = type.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    Object[] args = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      args[i] = of(types[i], components[i].getGenericType(), depth + 1);
    }
    try {
      Constructor<?> canonical = type.getDeclaredConstructor(types);
      canonical.setAccessible(true);
      return canonical.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot build a sample " + type.getName() + ": " + e, e);
    }
  }

  private Object element(Type generic, int index, int depth) {
    Class<?> type = argument(generic, index);
    return of(type, type, depth + 1);
  }

  private static Class<?> argument(Type generic, int index) {
    if (generic instanceof ParameterizedType p) {
      Type arg = p.getActualTypeArguments()[index];
      if (arg instanceof Class<?> c) return c;
      if (arg instanceof ParameterizedType pa) return (Class<?>) pa.getRawType();
    }
    return String.class;
  }
}
