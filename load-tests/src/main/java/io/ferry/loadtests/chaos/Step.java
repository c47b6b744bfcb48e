package io.ferry.loadtests.chaos;

/** When in the operation the fault strikes. */
enum Step {
  /** Just before the operation is asked for (for an evacuation: as the expiry warning comes). */
  BEFORE,
  /** While it is in flight (the VM's stage shows it). */
  DURING,
  /** Right after it completed. */
  AFTER
}
