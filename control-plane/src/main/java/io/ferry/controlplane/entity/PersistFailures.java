package io.ferry.controlplane.entity;

import java.time.Duration;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;

/**
 * What an entity does when the journal refuses a write (Cassandra down or overloaded): it
 * restarts with backoff and recovers from the journal, instead of stopping. The command whose
 * event failed gets no reply, so its asker sees a timeout (the API answers 503); nothing was
 * recorded, and an entity whose stage is in flight re-drives its side effect after the recovery.
 */
final class PersistFailures {
  private PersistFailures() {}

  static BackoffSupervisorStrategy restartWithBackoff() {
    return SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2);
  }
}
