package io.ferry.loadtests.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaseTraceTest {
  @Test
  void linesNamingTheCaseAreGatheredFromEveryLogInTimeOrderWithoutStackFrames(@TempDir Path rig) throws Exception {
    Files.writeString(rig.resolve("member-0.log"), String.join("\n",
        "01:00:02.000 INFO  Evacuation - VM chaos.c1: migration to ts-b started",
        "01:00:03.000 INFO  Evacuation - VM chaos.c2: another case's VM",
        "01:00:05.000 ERROR Vm - Failed to persist event for persistenceId [Vm|chaos.c1]",
        "org.apache.pekko.persistence.typed.internal.JournalFailureException: for [Vm|chaos.c1]",
        "\tat org.apache.pekko.Foo(Foo.scala:1) chaos.c1"));
    Path jobs = Files.createDirectories(rig.resolve("jobs").resolve("slurm"));
    Files.writeString(jobs.resolve("ferry-ts-b.out"), String.join("\n",
        "01:00:01.000 INFO  NodeAgent - timeslot ts-b: agent of node n1 up",
        "01:00:04.000 INFO  QemuDriver - VM chaos.c1: QEMU pid 7 started for incoming defer"));
    Files.writeString(jobs.resolve("ferry-ts-b.sh"), "01:00:00.000 chaos.c1 (a job script, not a log)");

    List<String> trace = CaseTrace.of(rig, List.of("chaos.c1", "ts-b"));

    assertEquals(List.of(
        "ferry-ts-b.out: 01:00:01.000 INFO  NodeAgent - timeslot ts-b: agent of node n1 up",
        "member-0.log: 01:00:02.000 INFO  Evacuation - VM chaos.c1: migration to ts-b started",
        "ferry-ts-b.out: 01:00:04.000 INFO  QemuDriver - VM chaos.c1: QEMU pid 7 started for incoming defer",
        "member-0.log: 01:00:05.000 ERROR Vm - Failed to persist event for persistenceId [Vm|chaos.c1]"), trace);
  }

  @Test
  void aLongTraceKeepsItsBeginningAndItsEndAndSaysHowMuchIsLeftOut() {
    List<String> lines = IntStream.range(0, 1000).mapToObj(i -> "line " + i).toList();
    List<String> s = CaseTrace.shortened(lines, 200);
    assertEquals(201, s.size());
    assertEquals("line 0", s.get(0));
    assertEquals("line 39", s.get(39));
    assertEquals("… 800 lines left out …", s.get(40));
    assertEquals("line 999", s.get(200));
    assertTrue(CaseTrace.render("X/Y/Z", List.of("a")).contains("  | a\n"));
  }
}
