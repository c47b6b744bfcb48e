package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** Serializers for the JDK types persisted fields may use. Reads always return immutable values. */
final class BuiltInSerializers {
  private BuiltInSerializers() {}

  static final class InstantSerializer extends Serializer<Instant> {
    InstantSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, Instant value) {
      output.writeVarLong(value.getEpochSecond(), false);
      output.writeVarInt(value.getNano(), true);
    }

    @Override
    public Instant read(Kryo kryo, Input input, Class<? extends Instant> type) {
      return Instant.ofEpochSecond(input.readVarLong(false), input.readVarInt(true));
    }
  }

  static final class DurationSerializer extends Serializer<Duration> {
    DurationSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, Duration value) {
      output.writeVarLong(value.getSeconds(), false);
      output.writeVarInt(value.getNano(), true);
    }

    @Override
    public Duration read(Kryo kryo, Input input, Class<? extends Duration> type) {
      return Duration.ofSeconds(input.readVarLong(false), input.readVarInt(true));
    }
  }

  static final class UuidSerializer extends Serializer<UUID> {
    UuidSerializer() {
      setImmutable(true);
    }

    @Override
    public void write(Kryo kryo, Output output, UUID value) {
      output.writeLong(value.getMostSignificantBits());
      output.writeLong(value.getLeastSignificantBits());
    }

    @Override
    public UUID read(Kryo kryo, Input input, Class<? extends UUID> type) {
      return new UUID(input.readLong(), input.readLong());
    }
  }

  /** Any {@link List}: written as its elements, read as an unmodifiable list. */
  static final class ListSerializer extends Serializer<List<?>> {
    @Override
    public void write(Kryo kryo, Output output, List<?> list) {
      output.writeVarInt(list.size(), true);
      for (Object element : list) kryo.writeClassAndObject(output, element);
    }

    @Override
    public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
      int size = input.readVarInt(true);
      List<Object> list = new ArrayList<>(size);
      for (int i = 0; i < size; i++) list.add(kryo.readClassAndObject(input));
      return Collections.unmodifiableList(list);
    }
  }

  /** Any {@link Set}: written as its elements in iteration order, read as an unmodifiable set. */
  static final class SetSerializer extends Serializer<Set<?>> {
    @Override
    public void write(Kryo kryo, Output output, Set<?> set) {
      output.writeVarInt(set.size(), true);
      for (Object element : set) kryo.writeClassAndObject(output, element);
    }

    @Override
    public Set<?> read(Kryo kryo, Input input, Class<? extends Set<?>> type) {
      int size = input.readVarInt(true);
      Set<Object> set = new LinkedHashSet<>();
      for (int i = 0; i < size; i++) set.add(kryo.readClassAndObject(input));
      return Collections.unmodifiableSet(set);
    }
  }

  /** Any {@link Map}: written as entries in iteration order, read as an unmodifiable map. */
  static final class MapSerializer extends Serializer<Map<?, ?>> {
    @Override
    public void write(Kryo kryo, Output output, Map<?, ?> map) {
      output.writeVarInt(map.size(), true);
      for (Map.Entry<?, ?> e : map.entrySet()) {
        kryo.writeClassAndObject(output, e.getKey());
        kryo.writeClassAndObject(output, e.getValue());
      }
    }

    @Override
    public Map<?, ?> read(Kryo kryo, Input input, Class<? extends Map<?, ?>> type) {
      int size = input.readVarInt(true);
      Map<Object, Object> map = new LinkedHashMap<>();
      for (int i = 0; i < size; i++) {
        map.put(kryo.readClassAndObject(input), kryo.readClassAndObject(input));
      }
      return Collections.unmodifiableMap(map);
    }
  }

  static final class ByteArraySerializer extends Serializer<byte[]> {
    @Override
    public void write(Kryo kryo, Output output, byte[] value) {
      output.writeVarInt(value.length, true);
      output.writeBytes(value);
    }

    @Override
    public byte[] read(Kryo kryo, Input input, Class<? extends byte[]> type) {
      return input.readBytes(input.readVarInt(true));
    }
  }
}
