package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * Builds the {@link Kryo} instances Ferry serializes with: registration required, no references,
 * built-in JDK types at fixed ids below {@link #FIRST_MODULE_ID}, then every module's
 * {@link KryoRegistrations}.
 */
public final class FerryKryo {
  /** Ids below this are Ferry's built-in types; modules use ids from here on. */
  public static final int FIRST_MODULE_ID = 100;

  private static final int INSTANT = 20;
  private static final int DURATION = 21;
  private static final int UUID_ID = 22;
  private static final int LIST = 23;
  private static final int SET = 24;
  private static final int MAP = 25;
  private static final int ACTOR_REF = 26;
  private static final int BYTES = 27;

  /** Interfaces whose every implementation shares one registration (Kryo needs concrete classes). */
  private static final List<Class<?>> BY_INTERFACE = List.of(List.class, Set.class, Map.class, ActorRef.class);

  private final List<KryoRegistrations.Entry> entries;
  private final ActorRefResolver resolver;

  /**
   * @param resolver resolves actor references on arrival; {@code null} where none cross (then an
   *     actor reference fails to serialize with an error saying so)
   */
  public FerryKryo(ActorRefResolver resolver) {
    this(loadEntries(), resolver);
  }

  FerryKryo(List<KryoRegistrations.Entry> entries, ActorRefResolver resolver) {
    this.entries = List.copyOf(entries);
    this.resolver = resolver;
    checkUnique(this.entries);
  }

  /** Every registration found through {@link ServiceLoader}, in no particular order. */
  public static List<KryoRegistrations.Entry> loadEntries() {
    List<KryoRegistrations.Entry> all = new ArrayList<>();
    for (KryoRegistrations provider : ServiceLoader.load(KryoRegistrations.class, FerryKryo.class.getClassLoader())) {
      all.addAll(provider.entries());
    }
    return all;
  }

  public List<KryoRegistrations.Entry> entries() {
    return entries;
  }

  /** A new Kryo instance; Kryo is not thread-safe, so callers pool them. */
  public Kryo newKryo() {
    Kryo kryo = new StrictKryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    kryo.register(Instant.class, new BuiltInSerializers.InstantSerializer(), INSTANT);
    kryo.register(Duration.class, new BuiltInSerializers.DurationSerializer(), DURATION);
    kryo.register(UUID.class, new BuiltInSerializers.UuidSerializer(), UUID_ID);
    kryo.register(List.class, new BuiltInSerializers.ListSerializer(), LIST);
    kryo.register(Set.class, new BuiltInSerializers.SetSerializer(), SET);
    kryo.register(Map.class, new BuiltInSerializers.MapSerializer(), MAP);
    kryo.register(byte[].class, new BuiltInSerializers.ByteArraySerializer(), BYTES);
    if (resolver != null) {
      kryo.register(ActorRef.class, new ActorRefSerializer(resolver), ACTOR_REF);
    }
    for (KryoRegistrations.Entry entry : entries) {
      kryo.register(entry.type(), serializerFor(entry), entry.id());
    }
    return kryo;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Serializer<?> serializerFor(KryoRegistrations.Entry entry) {
    Class<?> type = entry.type();
    if (entry.serializer() != null) return entry.serializer().apply(type);
    if (type.isRecord()) return new EvolvableRecordSerializer<>(type);
    if (type.isEnum()) return new EnumByNameSerializer(type);
    throw new IllegalArgumentException(type.getName() + " (Kryo id " + entry.id()
        + ") is neither a record nor an enum: give its registration a serializer");
  }

  private static void checkUnique(List<KryoRegistrations.Entry> entries) {
    Map<Integer, Class<?>> byId = new HashMap<>();
    Map<Class<?>, Integer> byType = new HashMap<>();
    for (KryoRegistrations.Entry e : entries) {
      Class<?> other = byId.putIfAbsent(e.id(), e.type());
      if (other != null) {
        throw new IllegalStateException("Kryo id " + e.id() + " is given to both " + other.getName()
            + " and " + e.type().getName() + ": ids are permanent, give the newer class a free id");
      }
      Integer otherId = byType.putIfAbsent(e.type(), e.id());
      if (otherId != null) {
        throw new IllegalStateException(e.type().getName() + " is registered twice, as " + otherId
            + " and " + e.id());
      }
    }
  }

  /** Kryo with Ferry's class resolver and an error for unregistered classes that says what to do. */
  private static final class StrictKryo extends Kryo {
    StrictKryo() {
      super(new InterfaceFallbackResolver(), null);
    }

    @Override
    protected String unregisteredClassMessage(Class type) {
      return "Class is not registered with Ferry's Kryo serializer: " + type.getName()
          + ". Give it a fixed id in its module's KryoRegistrations provider"
          + " (for example io.ferry.journal.serialization.JournalRegistrations); ids are permanent.";
    }
  }

  /**
   * Looks a class up by its own registration first, then by the interfaces in
   * {@link #BY_INTERFACE}, so that every {@code List} implementation shares the {@code List}
   * serializer and every typed {@code ActorRef} the actor-ref one.
   */
  private static final class InterfaceFallbackResolver extends DefaultClassResolver {
    @Override
    public Registration getRegistration(Class type) {
      Registration own = super.getRegistration(type);
      if (own != null) return own;
      for (Class<?> iface : BY_INTERFACE) {
        if (iface.isAssignableFrom(type)) return super.getRegistration(iface);
      }
      return null;
    }
  }
}
