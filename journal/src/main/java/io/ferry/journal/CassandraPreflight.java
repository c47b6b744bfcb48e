package io.ferry.journal;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * Checks, before an actor system starts its journal, that Cassandra answers CQL where the config
 * says, so that a Cassandra that is down or elsewhere is one clear message instead of the plugin's
 * endless reconnect stack traces.
 */
public final class CassandraPreflight {
  private CassandraPreflight() {}

  /** Cassandra is not there, or something else is. The message says what to do. */
  public static final class CassandraUnavailableException extends RuntimeException {
    public CassandraUnavailableException(String message) {
      super(message);
    }
  }

  /**
   * Checks every contact point in {@code ferry.cassandra.contact-points}.
   *
   * @throws CassandraUnavailableException if one does not answer CQL
   */
  public static void check(Config config) {
    String points = config.getString("ferry.cassandra.contact-points");
    Duration timeout = config.getDuration("ferry.cassandra.connect-timeout");
    for (String point : points.split(",")) {
      checkOne(point.trim(), timeout);
    }
  }

  static void checkOne(String hostPort, Duration timeout) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new CassandraUnavailableException("ferry.cassandra.contact-points entry '" + hostPort
          + "' is not host:port (for example 127.0.0.1:9042)");
    }
    String host = hostPort.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new CassandraUnavailableException("ferry.cassandra.contact-points entry '" + hostPort
          + "' has no numeric port");
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      socket.setSoTimeout((int) timeout.toMillis());
      if (!answersCql(socket)) {
        throw unavailable(hostPort, "something listens there but does not answer CQL");
      }
    } catch (SocketTimeoutException e) {
      throw unavailable(hostPort, "no answer within " + timeout.toMillis() + " ms");
    } catch (IOException e) {
      throw unavailable(hostPort, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
  }

  /** Sends a CQL v4 OPTIONS frame and expects SUPPORTED (opcode 0x06) back. */
  private static boolean answersCql(Socket socket) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(new byte[] {0x04, 0, 0, 0, 0x05, 0, 0, 0, 0});
    out.flush();
    InputStream in = socket.getInputStream();
    byte[] header = in.readNBytes(5);
    return header.length == 5 && (header[0] & 0x80) != 0 && header[4] == 0x06;
  }

  private static CassandraUnavailableException unavailable(String hostPort, String why) {
    return new CassandraUnavailableException("Cassandra is not reachable at " + hostPort + " (" + why + ").\n"
        + "Ferry keeps its journal in Cassandra. Start the local one with `ops/cassandra.sh start`,\n"
        + "or point Ferry at a running one with FERRY_CASSANDRA=host:port (setting ferry.cassandra.contact-points).");
  }
}
