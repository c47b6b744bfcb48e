package io.ferry.nodeagent.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.nodeagent.driver.qemu.GuestConsole;
import io.ferry.nodeagent.driver.qemu.QemuDriver;
import io.ferry.nodeagent.driver.qemu.QemuSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract against real QEMU (TCG) with Ferry's tiny guest, whose counter proves that a
 * migrated or resumed guest really continued. Needs the guest built by ops/guest.sh (ops/test
 * builds it).
 */
class QemuDriverIT extends HypervisorDriverContract {
  static Path root;
  static Path images;
  static QemuDriver a;
  static QemuDriver b;

  static QemuSettings settings(Path state) {
    return new QemuSettings("qemu-system-x86_64", "qemu-img", "tcg", images, state, root.resolve("shared"),
        "127.0.0.1", Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(60));
  }

  @BeforeAll
  static void setUp() throws IOException {
    images = TestImages.dir();
    root = Files.createTempDirectory(Path.of("/tmp"), "fq");
    a = new QemuDriver(settings(root.resolve("a")));
    b = new QemuDriver(settings(root.resolve("b")));
  }

  @AfterAll
  static void killLeftovers() throws IOException {
    ProcessHandle.current().children().filter(p -> p.info().command().orElse("").contains("qemu")).forEach(ProcessHandle::destroyForcibly);
    if (root == null) return;
    try (var files = Files.walk(root)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Override
  protected HypervisorDriver nodeA() {
    return a;
  }

  @Override
  protected HypervisorDriver nodeB() {
    return b;
  }

  @Override
  protected HypervisorDriver restartedNodeA() {
    return new QemuDriver(settings(root.resolve("a")));
  }

  @Override
  protected Path shared() {
    return root.resolve("shared");
  }

  @Override
  protected MigrationParams hopeless() {
    // 1 MiB/s cannot move 128 MiB of guest memory within 1.5 s.
    return new MigrationParams(1 << 20, 300, false, false, Duration.ofMillis(1500));
  }

  static Path console(VmHandle handle) {
    return Path.of(handle.attribute("console"));
  }

  @Override
  protected void awaitGuest(VmHandle handle) {
    TestImages.awaitCounting(console(handle), 3);
  }

  @Override
  protected void assertContinued(VmHandle before, VmHandle after) {
    TestImages.assertContinued(console(before), console(after));
  }

  @Test
  void qemuExitingAtStartReportsItsOwnError() throws IOException {
    Path broken = Files.createDirectories(images.resolveSibling(images.getFileName() + "-broken").resolve("broken"));
    Files.copy(images.resolve("tiny").resolve("base.qcow2"), broken.resolve("base.qcow2"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(broken.resolve("kernel"), "not a kernel");
    QemuSettings s = settings(root.resolve("a"));
    QemuDriver withBroken = new QemuDriver(new QemuSettings(s.binary(), s.qemuImg(), s.accel(), broken.getParent(), s.stateDir(),
        s.sharedDir(), s.migrationHost(), s.qmpTimeout(), s.resumeTimeout(), s.suspendTimeout()));
    var error = assertThrows(HypervisorException.class, () -> withBroken.start(new VmLaunch("broken-vm", 1, 128, "broken")));
    assertTrue(error.getMessage().contains("QEMU exited at start"), error.getMessage());
    assertTrue(error.getMessage().contains("QEMU said:"), error.getMessage());
  }

  @Test
  void killingTheTargetDuringAMigrationFailsItAndTheSourceRunsOn() {
    VmLaunch launch = launch("kill");
    VmHandle source = a.start(launch);
    awaitGuest(source);
    // Slow enough (2 MiB/s) that the target can be killed mid-way.
    MigrationParams slow = new MigrationParams(2 << 20, 300, false, false, Duration.ofSeconds(30));
    Incoming target = b.prepareIncoming(launch, slow);
    Thread killer = new Thread(() -> {
      // kill the target once the migration is under way (the source reports it as migrating)
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (a.inspect(source) != VmStatus.MIGRATING && System.nanoTime() < deadline) Thread.onSpinWait();
      ProcessHandle.of(target.handle().pid()).ifPresent(ProcessHandle::destroyForcibly);
    });
    killer.start();
    try {
      MigrationOutcome outcome = a.migrate(source, target.uri(), slow, MigrationListener.NONE);
      assertFalse(outcome.completed());
      assertTrue(outcome.failure().contains("failed"), outcome.failure());
      assertEquals(VmStatus.RUNNING, a.inspect(source));
      long before = GuestConsole.last(console(source)).n();
      TestImages.awaitCount(console(source), before + 3);
    } finally {
      a.stop(source);
      b.stop(target.handle());
    }
  }

  @Test
  void aMigrationPastItsDeadlineSwitchesToPostCopyWhenAllowedAndTheGuestContinues() {
    VmLaunch launch = launch("post");
    VmHandle source = a.start(launch);
    awaitGuest(source);
    // 8 MiB/s cannot pre-copy 128 MiB within 1 s; post-copy lets the target run and pull the rest.
    MigrationParams params = new MigrationParams(8 << 20, 300, true, false, Duration.ofMillis(1000));
    Incoming target = b.prepareIncoming(launch, params);
    try {
      MigrationOutcome outcome = a.migrate(source, target.uri(), params, MigrationListener.NONE);
      assertTrue(outcome.completed(), outcome.failure());
      assertTrue(outcome.postCopyUsed(), "post-copy was not used");
      VmHandle moved = b.awaitIncoming(target, Duration.ofSeconds(30));
      assertContinued(source, moved);
    } finally {
      b.stop(target.handle());
      a.stop(source);
    }
  }

  /** A QEMU killed behind the driver's back is news: its exit is reported, with how it ended, and reaped. */
  @Test
  void aKilledQemuIsReportedAsAnExitNobodyAskedForAndLeavesNoZombie() throws Exception {
    VmHandle vm = a.start(launch("crash"));
    awaitGuest(vm);
    var exit = a.whenExited(vm).toCompletableFuture();
    assertFalse(exit.isDone(), "a running QEMU has not exited");
    ProcessHandle.of(vm.pid()).orElseThrow().destroyForcibly();
    VmExit how = exit.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertFalse(how.deliberate(), how.description());
    assertTrue(how.description().contains("killed by signal 9"), how.description());
    assertTrue(how.description().contains("pid " + vm.pid()), how.description());
    Path stat = Path.of("/proc/" + vm.pid() + "/stat");
    assertFalse(Files.exists(stat) && Files.readString(stat).contains(") Z "), "QEMU " + vm.pid() + " is a zombie");
    assertEquals(VmStatus.GONE, a.inspect(vm));
    a.stop(vm);
  }

  @Test
  void aQemuTheDriverStopsExitsDeliberately() throws Exception {
    VmHandle vm = a.start(launch("quit"));
    awaitGuest(vm);
    var exit = a.whenExited(vm).toCompletableFuture();
    a.stop(vm);
    VmExit how = exit.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(how.deliberate(), how.description());
  }

}
