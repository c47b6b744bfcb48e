package io.ferry.nodeagent.agent;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's half of "a VM never runs twice", for one agent process and all the cluster members
 * (incarnations) it runs one after another.
 *
 * <p>The rule: <b>an agent kills its QEMUs when the control plane ordered it to, or when it can
 * no longer know whether it did</b>. Orders are rows in Cassandra ({@code NodeFences}) that the
 * control side writes for the agent incarnation it downed, before it restarts that node's VMs
 * anywhere else. The agent process reads them every {@code check-interval} ({@link #startReading},
 * through a session of its own that outlives its members); a read that finds no order
 * for any of its incarnations renews the lease until the read's start + {@code fence-after}.
 * While the agent is <em>unattached</em> (cut off from every control member, downed, or between
 * two incarnations while it rejoins), a watchdog thread that does not depend on the actor system
 * fences as soon as the lease has run out — once the agent has been attached at all: before its
 * first incarnation has seen a control member, no member of the control plane's cluster has known
 * any incarnation of this process, so no order can name one, and a slow start (the first read of
 * the orders opens the Cassandra session) is no reason to fence. The fault campaign found that an
 * agent whose first read took longer than fence-after "fenced" with no QEMU, carried that into its
 * next incarnation, and at the first control-plane restart killed its VMs and exited.
 *
 * <p>Why the control side may restart the VMs {@code fence-after} + margin after its order was
 * written (at W, read back at QUORUM): every read that starts after W finds the order and the
 * agent fences at once; every read that started before W renewed the lease until at most
 * W + fence-after, measured on the agent's own monotonic clock. So by W + fence-after the agent
 * has fenced or stopped trusting its reads, and the margin covers the kill (SIGKILL, under a
 * second) and the two clocks' rate difference. Nothing assumes synchronised clocks.
 *
 * <p>What this buys over fencing on being cut off (what Ferry did before): a control plane that
 * crashed, restarts or is upgraded orders nothing, so agents keep their VMs and rejoin it; only a
 * real decision to restart a node's VMs elsewhere costs that node its QEMUs. An agent that can
 * reach neither the control plane nor Cassandra fences after {@code fence-after}, as before.
 * The one case no agent-side rule covers is an agent process that is frozen (SIGSTOP, a stalled
 * host) while its QEMUs run on: it fences the moment it runs again, and until then QEMU's write
 * lock on the VM's overlay keeps a second copy from starting.
 */
public final class FenceLease implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FenceLease.class);

  private final Duration fenceAfter;
  private final Set<Long> incarnations = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean fenced = new AtomicBoolean();
  private final ScheduledExecutorService watchdog;
  private volatile long validUntil;
  private volatile boolean attached;
  private volatile boolean everAttached;
  private volatile Runnable fence = () -> {};
  private final AtomicBoolean reading = new AtomicBoolean();
  private volatile boolean readFailing;

  /** A lease valid for {@code fenceAfter} from now: a new incarnation has no order against it yet. */
  public FenceLease(Duration fenceAfter) {
    this.fenceAfter = fenceAfter;
    this.validUntil = System.nanoTime() + fenceAfter.toNanos();
    this.watchdog = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "fence-watchdog");
      t.setDaemon(true);
      return t;
    });
    watchdog.scheduleAtFixedRate(this::watch, 100, 100, TimeUnit.MILLISECONDS);
  }

  Duration fenceAfter() {
    return fenceAfter;
  }

  /** The cluster member uid of each incarnation of this agent: orders name one of them. */
  void incarnation(long memberUid) {
    incarnations.add(memberUid);
  }

  Set<Long> incarnations() {
    return Set.copyOf(incarnations);
  }

  /** A read that started at {@code startNanos} found no order: the lease holds until start + fence-after. */
  void renewed(long startNanos) {
    long until = startNanos + fenceAfter.toNanos();
    if (until > validUntil) validUntil = until;
  }

  boolean valid() {
    return System.nanoTime() < validUntil;
  }

  /** How long ago the lease was last renewed, for people. */
  long millisSinceRenewal() {
    return Math.max(0, (System.nanoTime() - (validUntil - fenceAfter.toNanos())) / 1_000_000);
  }

  /** How long until the lease runs out (0 once it has), for people and metrics. */
  long millisRemaining() {
    return Math.max(0, (validUntil - System.nanoTime()) / 1_000_000);
  }

  /** Whether a control member was reachable at the last look. */
  boolean attached() {
    return attached;
  }

  /** Whether a control member is reachable: while one is, the lease running out is no reason to fence. */
  void attached(boolean reachable) {
    this.attached = reachable;
    if (reachable) everAttached = true;
  }

  /** What fencing does in the current incarnation (kill the QEMUs, then shut the member down). */
  void onFence(Runnable action) {
    this.fence = action;
  }

  boolean attachedNow() {
    return attached;
  }

  boolean fenced() {
    return fenced.get();
  }

  /** Fences now (an order was read, or the lease ran out while unattached); only the first call acts. */
  void fence(String why) {
    if (!fenced.compareAndSet(false, true)) return;
    log.error("fencing: {}", why);
    fence.run();
  }

  /**
   * Reads the node's orders every {@code interval} for as long as the lease lives: across
   * incarnations, so a rejoin (no member for a few seconds) does not stop the reads that renew
   * the lease. {@code read} answers whether an order names one of the given incarnations.
   */
  void startReading(Function<Set<Long>, CompletionStage<Boolean>> read, Duration interval) {
    watchdog.scheduleWithFixedDelay(() -> {
      if (reading.getAndSet(true)) return; // the previous read is still out
      long start = System.nanoTime();
      CompletionStage<Boolean> answer;
      try {
        answer = read.apply(incarnations());
      } catch (RuntimeException e) {
        answer = java.util.concurrent.CompletableFuture.failedFuture(e);
      }
      answer.whenComplete((ordered, error) -> {
        reading.set(false);
        if (error != null) {
          if (!readFailing) {
            log.warn("cannot read this node's fence orders from Cassandra: {} (the lease runs out {} ms after the last good read)",
                error.getMessage(), fenceAfter.toMillis());
          }
          readFailing = true;
        } else if (Boolean.TRUE.equals(ordered)) {
          fence("the control plane ordered this node to fence: it downed this agent and will restart its VMs");
        } else {
          if (readFailing) log.info("fence orders readable again");
          readFailing = false;
          renewed(start);
        }
      });
    }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void watch() {
    if (everAttached && !attached && !valid()) {
      fence("unattached from the control plane and no fence order could be read for " + millisSinceRenewal()
          + " ms (fence-after " + fenceAfter.toMillis() + " ms)");
    }
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
  }
}
