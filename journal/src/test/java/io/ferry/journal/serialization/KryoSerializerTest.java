package io.ferry.journal.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import io.ferry.journal.Cause;
import io.ferry.journal.FerrySerializable;
import io.ferry.journal.serialization.fixtures.EvolvingEvent;
import io.ferry.journal.serialization.fixtures.Unregistered;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.VmEvent;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KryoSerializerTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  @Test
  void everyJournalTypeRoundTrips() {
    List<Class<?>> types = SerializationContract.markerClasses("io.ferry.journal");
    assertTrue(types.size() > 60, "scan found only " + types);
    Samples samples = new Samples(testKit.createTestProbe().ref());
    for (Class<?> type : types) {
      SerializationContract.roundTrip(testKit.system(), samples.of(type));
    }
  }

  @Test
  void everyJournalTypeIsRegisteredInJournalRegistrations() {
    Set<Class<?>> registered = new JournalRegistrations().entries().stream()
        .map(KryoRegistrations.Entry::type).collect(Collectors.toSet());
    List<String> missing = SerializationContract.markerClasses("io.ferry.journal").stream()
        .filter(c -> !registered.contains(c)).map(Class::getName).collect(Collectors.toList());
    assertEquals(List.of(), missing, "marker classes without a Kryo id");
  }

  @Test
  void jdkCollectionsOfAnyKindComeBackEqual() {
    Kryo kryo = new FerryKryo(List.of(), null).newKryo();
    List<Object> values = List.of(
        List.of(), List.of("a"), List.of("a", "b", "c"), new ArrayList<>(List.of(1, 2)),
        Set.of("x", "y"), Map.of("k", 1L), Map.of(), Instant.ofEpochSecond(-5, 7));
    for (Object value : values) {
      assertEquals(value, GoldenBytes.decode(kryo, GoldenBytes.encode(kryo, value)));
    }
  }

  @Test
  void anUnregisteredClassFailsWithAnErrorNamingIt() {
    var serializer = SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .findSerializerFor(new Unregistered("x"));
    var error = assertThrows(IllegalArgumentException.class, () -> serializer.toBinary(new Unregistered("x")));
    assertTrue(error.getMessage().contains(Unregistered.class.getName()), error.getMessage());
    assertTrue(error.getMessage().contains("KryoRegistrations"), error.getMessage());
  }

  @Test
  void twoClassesWithOneIdAreRefusedNamingBoth() {
    var entries = List.of(KryoRegistrations.Entry.of(9000, Unregistered.class),
        KryoRegistrations.Entry.of(9000, EvolvingEvent.class));
    var error = assertThrows(IllegalStateException.class, () -> new FerryKryo(entries, null));
    assertTrue(error.getMessage().contains(Unregistered.class.getName()), error.getMessage());
    assertTrue(error.getMessage().contains(EvolvingEvent.class.getName()), error.getMessage());
  }

  @Test
  void garbageBytesGiveAClearError() throws Exception {
    var serializer = SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(FerrySerializable.class);
    var error = assertThrows(IllegalArgumentException.class,
        () -> serializer.fromBinary(new byte[] {(byte) 0xff, 0x7f, 3}, scala.Option.empty()));
    assertTrue(error.getMessage().contains("Ferry's Kryo serializer"), error.getMessage());
  }

  /** Bytes written by version 1 of {@link EvolvingEvent} decode with today's shape. */
  @Test
  void bytesOfAnEarlierShapeStillDecodeAfterFieldsAreAddedAndRemoved() throws IOException {
    byte[] v1;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream("fixtures/evolving-event-v1.b64")) {
      assertNotNull(in, "fixture missing");
      v1 = Base64.getMimeDecoder().decode(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
    }
    Kryo kryo = new FerryKryo(withEvolving(), null).newKryo();
    Object decoded = GoldenBytes.decode(kryo, v1);
    assertEquals(new EvolvingEvent("vm-7", Cause.user("alice"), 42, "default", List.of()), decoded);
  }

  /**
   * Every persisted journal type has committed golden bytes, and they still decode to the same
   * values in every field they hold. A field added since (VmMigrationStarted.settings was) is not
   * in the old bytes: it decodes to its default and is not compared.
   */
  @Test
  void goldenBytesOfEveryJournalTypeStillDecode() throws Exception {
    Kryo kryo = new FerryKryo(null).newKryo();
    Samples samples = new Samples(null);
    List<String> problems = new ArrayList<>();
    for (Class<?> type : SerializationContract.markerClasses("io.ferry.journal")) {
      byte[] bytes = GoldenBytes.read(type);
      if (bytes == null) {
        problems.add("no golden bytes for " + type.getName()
            + ": run io.ferry.journal.serialization.GoldenBytes once and commit the file");
        continue;
      }
      Object decoded = GoldenBytes.decode(kryo, bytes);
      Object expected = samples.of(type);
      if (!type.isRecord()) {
        if (!expected.equals(decoded)) problems.add(type.getName() + ": " + decoded + " != " + expected);
        continue;
      }
      Set<String> stored = GoldenBytes.storedFields(kryo, bytes);
      for (RecordComponent c : type.getRecordComponents()) {
        if (!stored.contains(c.getName())) continue;
        Object got = c.getAccessor().invoke(decoded);
        Object want = c.getAccessor().invoke(expected);
        if (!sameAsStored(got, want)) {
          problems.add(type.getName() + "." + c.getName() + ": " + got + " != " + want);
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  /**
   * Whether an old value decoded equals today's sample: a nested record's field that decoded to
   * null was added after the bytes were written (VmFacts.attempt was), and is not compared.
   */
  private static boolean sameAsStored(Object got, Object want) throws Exception {
    if (got == null || want == null || !got.getClass().isRecord() || got.getClass() != want.getClass()) {
      return java.util.Objects.equals(got, want);
    }
    for (RecordComponent c : got.getClass().getRecordComponents()) {
      Object g = c.getAccessor().invoke(got);
      if (g != null && !sameAsStored(g, c.getAccessor().invoke(want))) return false;
    }
    return true;
  }

  @Test
  void flavoursAreFoundByName() {
    assertEquals(Flavour.TINY, Flavour.named("tiny").orElseThrow());
    assertFalse(Flavour.named("huge").isPresent());
    assertEquals(VmMode.DYNAMIC, new VmSpec("u", Flavour.TINY, "img", null).mode());
    assertNotNull(new VmEvent.VmStarted("v", Instant.EPOCH).vmId());
  }

  static List<KryoRegistrations.Entry> withEvolving() {
    List<KryoRegistrations.Entry> entries = new java.util.ArrayList<>(new JournalRegistrations().entries());
    entries.add(KryoRegistrations.Entry.of(9001, EvolvingEvent.class));
    return entries;
  }
}
