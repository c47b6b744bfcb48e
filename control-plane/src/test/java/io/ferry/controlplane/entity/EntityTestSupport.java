package io.ferry.controlplane.entity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** What the entity unit tests share: a fixed clock and the in-memory test journal. */
final class EntityTestSupport {
  static final Instant NOW = Instant.parse("2026-11-24T08:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  /** The event-sourcing testkit's in-memory journal, which also round-trips every message through Kryo. */
  static Config config() {
    return EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load());
  }

  /** Asserts a rejection and that its message contains every fragment. */
  static void assertRejected(StatusReply<?> reply, String... fragments) {
    assertTrue(reply.isError(), "expected a rejection, got " + reply);
    String message = reply.getError().getMessage();
    for (String f : fragments) {
      assertTrue(message.contains(f), "rejection '" + message + "' lacks '" + f + "'");
    }
  }

  private EntityTestSupport() {}
}
