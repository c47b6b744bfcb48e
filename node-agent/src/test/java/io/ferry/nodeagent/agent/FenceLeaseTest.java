package io.ferry.nodeagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.testing.Eventually;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The lease's rule: fence on an order, or when unattached and the lease has run out; never otherwise. */
class FenceLeaseTest {
  @Test
  void anUnattachedAgentWhoseReadsStoppedFencesOnceItsLeaseRunsOut() {
    try (FenceLease lease = new FenceLease(Duration.ofMillis(300))) {
      AtomicInteger fenced = new AtomicInteger();
      lease.onFence(fenced::incrementAndGet);
      lease.attached(true);
      lease.attached(false);
      Eventually.await("the watchdog fences", Duration.ofSeconds(5), Duration.ofMillis(20), fenced::get, n -> n == 1);
      assertTrue(lease.fenced());
      lease.fence("again");
      assertEquals(1, fenced.get(), "fencing acts once");
    }
  }

  @Test
  void anAttachedAgentKeepsItsVmsWhateverItsLeaseAndAnUnattachedOneWhileReadsRenewIt() throws Exception {
    try (FenceLease lease = new FenceLease(Duration.ofMillis(300))) {
      AtomicInteger fenced = new AtomicInteger();
      lease.onFence(fenced::incrementAndGet);
      lease.attached(true);
      long until = System.nanoTime() + Duration.ofMillis(900).toNanos();
      while (System.nanoTime() < until) {
        if (System.nanoTime() > until - Duration.ofMillis(450).toNanos()) {
          lease.attached(false); // cut off for the second half, but each read renews the lease
        }
        lease.renewed(System.nanoTime());
        Thread.onSpinWait();
      }
      assertEquals(0, fenced.get());
      assertFalse(lease.fenced());
      assertTrue(lease.valid());
    }
  }

  /** A read counts from when it started: one that took longer than fence-after renews nothing. */
  @Test
  void aReadRenewsTheLeaseOnlyUntilItsOwnStartPlusFenceAfter() {
    try (FenceLease lease = new FenceLease(Duration.ofMillis(300))) {
      AtomicInteger fenced = new AtomicInteger();
      lease.onFence(fenced::incrementAndGet);
      long slowReadStarted = System.nanoTime() - Duration.ofSeconds(2).toNanos();
      lease.attached(true);
      lease.attached(false);
      lease.renewed(slowReadStarted);
      Eventually.await("the watchdog fences despite the slow read", Duration.ofSeconds(5), Duration.ofMillis(20), fenced::get, n -> n == 1);
    }
  }

  /**
   * Found by the fault campaign: an agent whose first read of its orders took longer than
   * fence-after (the Cassandra session opening) set "fenced" before it had ever joined; at the next
   * control-plane restart it killed its VMs and exited. Before the first attachment no order can
   * name this process, so nothing fences; once attached and cut off, the lease rules again.
   */
  @Test
  void anAgentThatWasNeverAttachedDoesNotFenceHoweverSlowItsFirstReadButDoesOnceAttachedAndCutOff() {
    try (FenceLease lease = new FenceLease(Duration.ofMillis(200))) {
      AtomicInteger fenced = new AtomicInteger();
      lease.onFence(fenced::incrementAndGet);
      long started = System.nanoTime();
      // three fence-afters with no read and no control member: the watchdog (every 100 ms) looks six times
      Eventually.await("600 ms unattached before the first read", Duration.ofSeconds(5), Duration.ofMillis(20),
          () -> (System.nanoTime() - started) / 1_000_000, ms -> ms >= 600);
      assertFalse(lease.fenced(), "no fence before the agent was ever attached");
      assertEquals(0, fenced.get());
      lease.attached(true);
      lease.attached(false);
      Eventually.await("the watchdog fences once attached and cut off", Duration.ofSeconds(5), Duration.ofMillis(20), fenced::get, n -> n == 1);
    }
  }
}
