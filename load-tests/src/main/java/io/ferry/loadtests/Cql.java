package io.ferry.loadtests;

import com.datastax.oss.driver.api.core.CqlSession;
import java.net.InetSocketAddress;

/** Direct CQL for the benchmarks' housekeeping (Cassandra at $FERRY_CASSANDRA, default 127.0.0.1:9042). */
public final class Cql {
  private Cql() {}

  /** Drops a run's journal keyspace and its snapshot keyspace. */
  public static void dropKeyspaces(String keyspace) {
    String[] hostPort = System.getenv().getOrDefault("FERRY_CASSANDRA", "127.0.0.1:9042").split(":");
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        .withLocalDatacenter("datacenter1")
        .withConfigLoader(com.datastax.oss.driver.api.core.config.DriverConfigLoader.programmaticBuilder()
            .withDuration(com.datastax.oss.driver.api.core.config.DefaultDriverOption.REQUEST_TIMEOUT, java.time.Duration.ofSeconds(60))
            .build()).build()) {
      session.execute("DROP KEYSPACE IF EXISTS " + keyspace);
      session.execute("DROP KEYSPACE IF EXISTS " + keyspace + "_snapshot");
    } catch (RuntimeException e) {
      System.err.println("could not drop keyspace " + keyspace + " (drop it by hand with cqlsh): " + e.getMessage());
    }
  }
}
