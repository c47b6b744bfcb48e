package io.ferry.controlplane.batch;

import io.ferry.journal.timeslot.TimeslotRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** The Slurm backend against the real single-host Slurm that ops/slurm.sh runs (ops/test starts it). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlurmBatchSystemIT extends BatchSystemContract {
  Path conf;
  Path dir;
  SlurmBatchSystem slurm;

  @BeforeAll
  void find() throws Exception {
    String env = System.getenv("SLURM_CONF");
    conf = env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".ferry", "slurm", "slurm.conf");
    if (!Files.exists(conf)) throw new IllegalStateException("no Slurm configuration at " + conf + ": run ops/slurm.sh start (ops/test does)");
    dir = Files.createTempDirectory(Path.of("/tmp"), "ferry-slurm");
    slurm = SlurmBatchSystem.at(conf, dir);
  }

  @Override
  BatchSystem batch() {
    return slurm;
  }

  @Override
  Path shared() {
    return dir;
  }

  @Override
  BatchSystem down() {
    try {
      Path conf = dir.resolve("down.conf");
      Files.writeString(conf, Files.readString(this.conf).replace("SlurmctldPort=6817", "SlurmctldPort=1"));
      return SlurmBatchSystem.at(conf, dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  String downSays() {
    return "is Slurm running?";
  }

  @Override
  TimeslotRequest refused() {
    return new TimeslotRequest(1, 256, Duration.ofMinutes(1), "no-such-partition");
  }

  @Override
  String refusalSays() {
    return "invalid partition";
  }

  @Override
  boolean movesRunningEnds() {
    return true;
  }
}
