package io.ferry.journal.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.ferry.journal.FerrySerializable;
import io.github.classgraph.ClassGraph;
import io.github.classgraph.ScanResult;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;

/**
 * Shared by every module's serialization test: finds every concrete {@link FerrySerializable} in
 * a package by scanning the classpath (so a new class cannot be forgotten) and round-trips values
 * through the serializer Pekko picks for them.
 */
public final class SerializationContract {
  private SerializationContract() {}

  /** Every concrete class under {@code packagePrefix} that implements the marker. */
  public static List<Class<?>> markerClasses(String packagePrefix) {
    try (ScanResult scan = new ClassGraph().enableClassInfo().acceptPackages(packagePrefix).scan()) {
      return scan.getClassesImplementing(FerrySerializable.class).loadClasses().stream()
          .filter(c -> !c.isInterface() && !Modifier.isAbstract(c.getModifiers()))
          .filter(c -> !c.getPackageName().contains(".fixtures"))
          .sorted((a, b) -> a.getName().compareTo(b.getName()))
          .collect(Collectors.toList());
    }
  }

  /** Serializes through Pekko's serialization (so the binding is tested too) and back. */
  public static Object roundTrip(ActorSystem<?> system, Object value) {
    Serialization serialization = SerializationExtension.get(Adapter.toClassic(system));
    Serializer serializer = serialization.findSerializerFor(value);
    assertInstanceOf(KryoSerializer.class, serializer,
        value.getClass().getName() + " is not bound to Ferry's Kryo serializer");
    byte[] bytes = serializer.toBinary(value);
    Object back = serialization.deserialize(bytes, serializer.identifier(), "").get();
    assertEquals(value, back, "round trip of " + value.getClass().getName());
    return back;
  }
}
