package io.ferry.nodeagent.driver;

import io.ferry.nodeagent.driver.simulated.SimulatedDriver;
import io.ferry.nodeagent.driver.simulated.SimulatedSettings;
import java.nio.file.Path;
import java.time.Duration;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract, against the process-less driver (sped up 20×: a 128 MiB VM migrates in ~6 ms). */
class SimulatedDriverTest extends HypervisorDriverContract {
  @TempDir Path shared;

  private static SimulatedSettings node(String name) {
    SimulatedSettings d = SimulatedSettings.defaults(name);
    return new SimulatedSettings(name, d.linkBytesPerSec(), d.diskBytesPerSec(), d.downtimeMs(), d.minMemoryMiB(), d.images(), 20);
  }

  @Override
  protected HypervisorDriver nodeA() {
    return new SimulatedDriver(node("a"));
  }

  @Override
  protected HypervisorDriver nodeB() {
    return new SimulatedDriver(node("b"));
  }

  @Override
  protected HypervisorDriver restartedNodeA() {
    return new SimulatedDriver(node("a"));
  }

  @Override
  protected Path shared() {
    return shared;
  }

  @Override
  protected MigrationParams hopeless() {
    return new MigrationParams(1 << 20, 300, false, false, Duration.ofMillis(400));
  }

  @Test
  void killingANodesVmsLeavesTheVmsThatMigratedAwayAndOtherNodes() {
    SimulatedDriver a = new SimulatedDriver(node("a"));
    SimulatedDriver b = new SimulatedDriver(node("b"));
    VmHandle stays = a.start(launch("stays"));
    VmLaunch movingLaunch = launch("moves");
    VmHandle moving = a.start(movingLaunch);
    VmHandle onB = b.start(launch("onb"));
    Incoming target = b.prepareIncoming(movingLaunch, MigrationParams.DEFAULT);
    assertEquals(true, a.migrate(moving, target.uri(), MigrationParams.DEFAULT, MigrationListener.NONE).completed());
    VmHandle moved = b.awaitIncoming(target, Duration.ofSeconds(5));

    assertEquals(1, a.killAll(), "only the VM still on node a dies with its job");
    assertEquals(VmStatus.GONE, a.inspect(stays));
    assertEquals(VmStatus.RUNNING, b.inspect(moved));
    assertEquals(VmStatus.RUNNING, b.inspect(onB));
    assertEquals(0, a.killAll(), "a second kill finds nothing");
  }
}
