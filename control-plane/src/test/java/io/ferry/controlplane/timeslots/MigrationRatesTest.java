package io.ferry.controlplane.timeslots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MigrationRatesTest {
  @Test
  void noMeasurementBeforeTheFirstMigration() {
    assertTrue(new MigrationRates().bytesPerSecond().isEmpty());
  }

  @Test
  void theSlowestOfTheRecentMigrationsIsTheEstimate() {
    MigrationRates rates = new MigrationRates();
    rates.record(1024, 1000); // 1 GiB/s
    rates.record(512, 2000); // 256 MiB/s
    assertEquals(256L << 20, rates.bytesPerSecond().getAsLong());
  }

  @Test
  void tooShortMigrationsAreIgnoredAndOldOnesForgotten() {
    MigrationRates rates = new MigrationRates();
    rates.record(128, 50); // setup-dominated: ignored
    assertTrue(rates.bytesPerSecond().isEmpty());
    rates.record(100, 10_000); // 10 MiB/s, then pushed out by faster ones
    for (int i = 0; i < MigrationRates.WINDOW; i++) rates.record(1000, 1000);
    assertEquals(1000L << 20, rates.bytesPerSecond().getAsLong());
  }

  @Test
  void theEvacuationEstimateFollowsTheMeasuredRate() {
    var slow = new EvacuationPlanner.Params(java.time.Duration.ofSeconds(60), 16L << 20, java.time.Duration.ofSeconds(10), 2);
    assertEquals(java.time.Duration.ofSeconds(10), EvacuationPlanner.estimate(tiny(), slow));
  }

  private static io.ferry.journal.vm.VmState tiny() {
    var spec = new io.ferry.journal.vm.VmSpec("u", io.ferry.journal.vm.Flavour.TINY, "tiny", io.ferry.journal.vm.VmMode.DYNAMIC);
    return new io.ferry.journal.vm.VmState.Requested(new io.ferry.journal.vm.VmFacts("vm", spec, null, null, null));
  }
}
