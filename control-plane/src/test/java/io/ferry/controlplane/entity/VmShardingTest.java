package io.ferry.controlplane.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How the Vm entities are sharded: the settings {@link VmSharding} reads. */
class VmShardingTest {
  @Test
  void theCoordinatorStoreSettingTakesItsTwoValuesAndNamesTheKeyOtherwise() {
    assertEquals(org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings.stateStoreModePersistence(),
        VmSharding.coordinatorStore("persistence"));
    assertEquals(org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings.stateStoreModeDdata(), VmSharding.coordinatorStore("ddata"));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> VmSharding.coordinatorStore("cassandra"));
    assertTrue(e.getMessage().contains("ferry.control.vm-coordinator-store is \"cassandra\"") && e.getMessage().contains("persistence"),
        e.getMessage());
  }
}
