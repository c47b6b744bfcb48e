package io.ferry.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.serialization.KryoRegistrations;
import io.ferry.journal.serialization.Samples;
import io.ferry.journal.serialization.SerializationContract;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every message of the control plane crosses the wire: each one round-trips through Kryo. */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlPlaneSerializationTest {
  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  @Test
  void everyControlPlaneMessageRoundTripsWithItsReplyAddress() {
    List<Class<?>> types = SerializationContract.markerClasses("io.ferry.controlplane");
    assertTrue(types.size() >= 30, "scan found only " + types);
    Samples samples = new Samples(testKit.createTestProbe().ref());
    for (Class<?> type : types) {
      SerializationContract.roundTrip(testKit.system(), samples.of(type));
    }
  }

  @Test
  void everyControlPlaneMessageHasAnIdInItsRange() {
    Set<Class<?>> registered = new ControlPlaneRegistrations().entries().stream()
        .map(KryoRegistrations.Entry::type).collect(Collectors.toSet());
    List<String> missing = SerializationContract.markerClasses("io.ferry.controlplane").stream()
        .filter(c -> !registered.contains(c)).map(Class::getName).collect(Collectors.toList());
    assertEquals(List.of(), missing, "messages without a Kryo id");
    new ControlPlaneRegistrations().entries().forEach(e ->
        assertTrue(e.id() >= 1000 && e.id() < 2000, e.type() + " has id " + e.id() + " outside 1000–1999"));
  }
}
