package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes a record field by field, each under its name and with its length, so that the record can
 * change shape and old bytes still decode:
 *
 * <ul>
 *   <li>a field added later is absent from old bytes and is rebuilt as {@code null} (or zero /
 *       {@code false} for primitives); the record's compact constructor may replace it with a
 *       default;
 *   <li>a field removed later is skipped by its length;
 *   <li>renaming a field or changing its type is not supported: add a new field instead.
 * </ul>
 *
 * <p>Layout: {@code varint count, then count × (string name, int length, class-and-object value)}.
 */
final class EvolvableRecordSerializer<T> extends Serializer<T> {
  private final Class<T> type;
  private final RecordComponent[] components;
  private final Method[] accessors;
  private final Constructor<T> canonical;
  private final Map<String, Integer> indexByName = new HashMap<>();

  EvolvableRecordSerializer(Class<T> type) {
    if (!type.isRecord()) {
      throw new IllegalArgumentException(type.getName() + " is not a record");
    }
    this.type = type;
    this.components = type.getRecordComponents();
    this.accessors = new Method[components.length];
    Class<?>[] parameterTypes = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      accessors[i] = components[i].getAccessor();
      accessors[i].setAccessible(true);
      parameterTypes[i] = components[i].getType();
      indexByName.put(components[i].getName(), i);
    }
    try {
      this.canonical = type.getDeclaredConstructor(parameterTypes);
      canonical.setAccessible(true);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException("record " + type.getName() + " has no canonical constructor", e);
    }
  }

  @Override
  public void write(Kryo kryo, Output output, T record) {
    output.writeVarInt(components.length, true);
    for (int i = 0; i < components.length; i++) {
      output.writeString(components[i].getName());
      int lengthAt = output.position();
      output.writeInt(0);
      int start = output.position();
      kryo.writeClassAndObject(output, read(record, i));
      int end = output.position();
      output.setPosition(lengthAt);
      output.writeInt(end - start);
      output.setPosition(end);
    }
  }

  @Override
  public T read(Kryo kryo, Input input, Class<? extends T> ignored) {
    Object[] args = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      args[i] = defaultValue(components[i].getType());
    }
    int count = input.readVarInt(true);
    for (int f = 0; f < count; f++) {
      String name = input.readString();
      int length = input.readInt();
      Integer index = indexByName.get(name);
      if (index == null) {
        input.skip(length); // a field this version of the record no longer has
        continue;
      }
      Object value = kryo.readClassAndObject(input);
      Class<?> expected = boxed(components[index].getType());
      if (value != null && !expected.isInstance(value)) {
        throw new KryoException("stored field '" + name + "' of " + type.getName() + " holds a "
            + value.getClass().getName() + " but the record now expects " + expected.getName()
            + ": a field's type must not change; add a new field instead");
      }
      if (value != null || !components[index].getType().isPrimitive()) {
        args[index] = value;
      }
    }
    try {
      return canonical.newInstance(args);
    } catch (InvocationTargetException e) {
      throw new KryoException("cannot rebuild " + type.getName() + " from its stored fields: "
          + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new KryoException("cannot rebuild " + type.getName() + ": " + e, e);
    }
  }

  private Object read(T record, int i) {
    try {
      return accessors[i].invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new KryoException("cannot read field " + components[i].getName() + " of "
          + type.getName() + ": " + e, e);
    }
  }

  private static Object defaultValue(Class<?> type) {
    if (!type.isPrimitive()) return null;
    if (type == boolean.class) return false;
    if (type == char.class) return '\0';
    if (type == long.class) return 0L;
    if (type == double.class) return 0.0d;
    if (type == float.class) return 0.0f;
    if (type == short.class) return (short) 0;
    if (type == byte.class) return (byte) 0;
    return 0;
  }

  private static Class<?> boxed(Class<?> type) {
    if (!type.isPrimitive()) return type;
    return defaultValue(type).getClass();
  }
}
