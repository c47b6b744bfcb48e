package io.ferry.controlplane.batch;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.timeslot.TimeslotRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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

  @Test
  void anUnknownPartitionIsRefusedWithSlurmsReason() {
    var spec = job(dir.resolve("x"), Duration.ofMinutes(1));
    var bad = new BatchSystem.JobSpec(spec.name(), new TimeslotRequest(1, 256, Duration.ofMinutes(1), "no-such-partition"),
        spec.warningLead(), spec.command(), spec.environment());
    var error = assertThrows(BatchException.class, () -> slurm.submit(bad));
    assertTrue(error.getMessage().contains("invalid partition"), error.getMessage());
  }

  @Test
  void aSlurmThatIsDownIsAClearError() throws Exception {
    Path down = dir.resolve("down.conf");
    Files.writeString(down, Files.readString(conf).replace("SlurmctldPort=6817", "SlurmctldPort=1"));
    var error = assertThrows(BatchException.class, () -> SlurmBatchSystem.at(down, dir).submit(job(dir.resolve("y"), Duration.ofMinutes(1))));
    assertTrue(error.getMessage().contains("is Slurm running?"), error.getMessage());
    // squeue --json exits 0 then, with no jobs and an error inside: reading a job must fail, not report it gone
    var unread = assertThrows(BatchException.class, () -> SlurmBatchSystem.at(down, dir).status("1"));
    assertTrue(unread.getMessage().contains("could not read Slurm's jobs") && unread.getMessage().contains("is Slurm running?"),
        unread.getMessage());
  }
}
