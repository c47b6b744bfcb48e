package io.ferry.nodeagent.driver.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferry.nodeagent.driver.MigrationOutcome;
import io.ferry.nodeagent.qmp.QmpException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How a completed migration's figures are read: QEMU 7.2 answers {@code status: completed} with
 * {@code total-time: 0, downtime: 0} a moment before it fills them in (seen on a fresh machine,
 * where the zeros were journaled).
 */
class QemuMigrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode reply(long total, long downtime) throws Exception {
    return JSON.readTree("{\"status\":\"completed\",\"total-time\":" + total + ",\"downtime\":" + downtime
        + ",\"ram\":{\"transferred\":91500722}}");
  }

  @Test
  void zerosRightAfterCompletionAreReadAgainUntilQemuFillsThemIn() throws Exception {
    Deque<JsonNode> later = new ArrayDeque<>(List.of(reply(0, 0), reply(0, 0), reply(412, 37)));
    int[] queries = {0};
    JsonNode figures = QemuMigration.settledFigures(reply(0, 0), () -> {
      queries[0]++;
      return later.isEmpty() ? reply2() : later.pop();
    }, Duration.ofSeconds(2));
    MigrationOutcome outcome = QemuMigration.completedOutcome("vm-1", figures, 500, false);
    assertEquals(3, queries[0]);
    assertEquals(412, outcome.totalMs());
    assertEquals(37, outcome.downtimeMs());
    assertEquals(91500722, outcome.transferredBytes());
  }

  @Test
  void figuresAlreadyFilledInAreTakenWithoutAnotherQuery() throws Exception {
    JsonNode figures = QemuMigration.settledFigures(reply(300, 0), () -> {
      throw new AssertionError("no second query-migrate was needed");
    }, Duration.ofSeconds(2));
    MigrationOutcome outcome = QemuMigration.completedOutcome("vm-1", figures, 500, false);
    assertEquals(300, outcome.totalMs());
    assertEquals(0, outcome.downtimeMs(), "a downtime QEMU measured as 0 ms is QEMU's figure");
  }

  @Test
  void aQemuThatNeverFillsThemInGetsFerrysOwnTotalAndAnUnknownDowntimeNeverZero() throws Exception {
    JsonNode zeros = reply(0, 0);
    JsonNode figures = QemuMigration.settledFigures(zeros, () -> zeros, Duration.ofMillis(50));
    MigrationOutcome outcome = QemuMigration.completedOutcome("vm-1", figures, 640, false);
    assertEquals(640, outcome.totalMs());
    assertEquals(-1, outcome.downtimeMs());
    assertTrue(outcome.completed());
  }

  @Test
  void aConnectionLostWhileWaitingKeepsWhatWasRead() throws Exception {
    JsonNode figures = QemuMigration.settledFigures(reply(0, 0), () -> {
      throw new QmpException.ConnectionLost("QEMU quit", null);
    }, Duration.ofSeconds(2));
    assertEquals(700, QemuMigration.completedOutcome("vm-1", figures, 700, false).totalMs());
  }

  private static JsonNode reply2() {
    throw new AssertionError("queried more often than needed");
  }
}
