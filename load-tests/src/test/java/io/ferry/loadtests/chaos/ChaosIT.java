package io.ferry.loadtests.chaos;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The fault campaign's subset that every test run holds to (the whole matrix is {@code ops/chaos}):
 * a QEMU crash, the agent a VM just migrated to killed, the whole control plane restarted,
 * Cassandra killed in the middle of an expiry's evacuation, and the source node cut off in the
 * middle of a suspend. 3 real control members, Slurm jobs with real agents in their own network
 * namespaces, real QEMU, real Cassandra. Every case must hold every invariant of {@link ChaosCase}, and end as a user would
 * expect it to.
 */
class ChaosIT {
  record Expected(String kase, String why, Predicate<ChaosCase.Outcome> holds) {}

  static final List<Expected> EXPECTED = List.of(
      new Expected("QEMU_KILL/MIGRATE/AFTER", "the crash recorded Lost, then the dynamic VM restarted with a new boot",
          o -> o.outcome().startsWith("Running") && o.outcome().contains("a new boot") && stages(o).contains("Lost@")),
      new Expected("TARGET_AGENT_KILL/MIGRATE/AFTER", "the VM's agent (and its job, and its QEMU with it) gone right after the "
          + "migration: recorded Lost within seconds (the 5 s rule), never Running again without a QEMU",
          o -> stages(o).contains("Lost@")),
      new Expected("CONTROL_RESTART/MIGRATE/AFTER", "the VM runs on, on its target, the same guest, never Lost",
          o -> o.outcome().equals("Running on the target, the same guest") && !stages(o).contains("Lost@")),
      new Expected("CASSANDRA_KILL/EVACUATE/DURING", "the evacuation finished once the journal was back: the same guest on "
          + "the target (migrated; or, if the outage outlasted the expiry's window, suspended and resumed there)",
          o -> o.outcome().equals("Running on the target, the same guest")),
      new Expected("SOURCE_PARTITION/SUSPEND/DURING", "never two copies: if the cut came before the suspend was "
          + "journaled, the node fenced and cut its journal session (its last write never landed after the heal) and the VM "
          + "was recorded Lost and restarted on the other node; if after, it stays Suspended, as its user asked (the "
          + "evacuation resumes only what an expiry or a policy suspended)",
          o -> o.outcome().startsWith("Running on the target") || o.outcome().equals("Suspended")));

  private static String stages(ChaosCase.Outcome o) {
    return String.valueOf(o.figures().get("stages"));
  }

  @Test
  void theCampaignsSubsetHoldsEveryInvariantAndEndsAsExpected() throws Exception {
    Path home = Path.of("..").toAbsolutePath().normalize();
    Path images = Path.of(System.getenv().getOrDefault("FERRY_IMAGES", System.getProperty("user.home") + "/.ferry/images"));
    List<String[]> plan = EXPECTED.stream().map(e -> e.kase().split("/")).toList();
    List<ChaosCase.Outcome> outcomes = Chaos.run(home, images, 3, plan, false);
    System.out.println(Chaos.table(outcomes, java.time.Instant.now()));
    assertEquals(EXPECTED.size(), outcomes.size());
    Executable[] checks = new Executable[EXPECTED.size() * 2];
    for (int i = 0; i < EXPECTED.size(); i++) {
      Expected e = EXPECTED.get(i);
      ChaosCase.Outcome o = outcomes.get(i);
      // a case that failed printed its trace already (Chaos.run); one that held but ended otherwise prints it here
      if (o.ok() && !e.holds().test(o)) System.out.print(CaseTrace.render(o.name(), o.trace()));
      checks[2 * i] = () -> assertTrue(o.ok(), e.kase() + ": " + o.failures());
      checks[2 * i + 1] = () -> assertTrue(e.holds().test(o), e.kase() + ": expected " + e.why() + "; it ended " + o.outcome()
          + " (stages " + stages(o) + ", " + o.figures() + ")");
    }
    assertAll(checks);
  }
}
