package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

/** Writes an enum constant by name, so constants can be reordered or added without harm. */
final class EnumByNameSerializer<E extends Enum<E>> extends Serializer<E> {
  private final Class<E> type;

  EnumByNameSerializer(Class<E> type) {
    this.type = type;
    setImmutable(true);
  }

  @Override
  public void write(Kryo kryo, Output output, E value) {
    output.writeString(value.name());
  }

  @Override
  public E read(Kryo kryo, Input input, Class<? extends E> ignored) {
    String name = input.readString();
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new KryoException("stored constant " + name + " of " + type.getName()
          + " no longer exists: keep old constants (deprecate them instead of deleting)");
    }
  }
}
