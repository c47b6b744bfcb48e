package io.ferry.controlplane;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.journal.CassandraPreflight.CassandraUnavailableException;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A control member refuses to start, with one clear message, when Cassandra is not there. */
class CassandraPreflightTest {

  private static CassandraUnavailableException startAgainst(String contactPoint) {
    var overrides = ControlPlane.overrides("127.0.0.1", 0, List.of())
        .withValue("ferry.cassandra.contact-points", ConfigValueFactory.fromAnyRef(contactPoint))
        .withValue("ferry.cassandra.connect-timeout", ConfigValueFactory.fromAnyRef("1s"));
    return assertThrows(CassandraUnavailableException.class,
        () -> ControlPlane.start(ControlPlane.config(overrides.withFallback(ConfigFactory.empty()))));
  }

  @Test
  void aCassandraThatIsNotRunningIsNamedWithHowToStartIt() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    var error = startAgainst("127.0.0.1:" + port);
    assertTrue(error.getMessage().contains("not reachable at 127.0.0.1:" + port), error.getMessage());
    assertTrue(error.getMessage().contains("ops/cassandra.sh start"), error.getMessage());
    assertTrue(error.getMessage().contains("FERRY_CASSANDRA"), error.getMessage());
  }

  @Test
  void somethingElseOnThePortIsNotTakenForCassandra() throws Exception {
    try (ServerSocket notCassandra = new ServerSocket(0)) {
      Thread server = new Thread(() -> {
        try (var client = notCassandra.accept()) {
          client.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes());
        } catch (IOException ignored) {
          // the test is over
        }
      });
      server.start();
      var error = startAgainst("127.0.0.1:" + notCassandra.getLocalPort());
      assertTrue(error.getMessage().contains("does not answer CQL"), error.getMessage());
      server.join(5000);
    }
  }

  @Test
  void aMalformedContactPointIsExplained() {
    var error = startAgainst("localhost");
    assertTrue(error.getMessage().contains("is not host:port"), error.getMessage());
  }
}
