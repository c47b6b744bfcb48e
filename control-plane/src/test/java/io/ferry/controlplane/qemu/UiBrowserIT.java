package io.ferry.controlplane.qemu;

import static io.ferry.controlplane.qemu.QemuCluster.runningOn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferry.journal.vm.Flavour;
import io.ferry.nodeagent.driver.TestImages;
import io.ferry.nodeagent.driver.VmHandle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The timeline page in a real headless Chromium (Debian's chromium and chromium-driver, driven by
 * Selenium), against a control member with two agents running real QEMU: a VM migrated through the
 * API appears on its new node's row within seconds, its audit timeline opens on a click, a
 * dropped connection resumes without drawing anything twice, and a wrong token is turned away
 * with a clear message. Leaves a screenshot in target/ui-timeline.png.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UiBrowserIT {
  QemuCluster cluster;
  String a;
  String b;
  ActorSystem<Void> agentA;
  ActorSystem<Void> agentB;
  ChromeDriver browser;

  @BeforeAll
  void start() throws Exception {
    cluster = new QemuCluster();
    a = cluster.node("a");
    b = cluster.node("b");
    agentA = cluster.startAgent(a);
    agentB = cluster.startAgent(b);
    String chromium = System.getenv().getOrDefault("FERRY_CHROMIUM", "/usr/bin/chromium");
    String driver = System.getenv().getOrDefault("FERRY_CHROMEDRIVER", "/usr/bin/chromedriver");
    assertTrue(Files.isExecutable(Path.of(chromium)) && Files.isExecutable(Path.of(driver)),
        chromium + " and " + driver + " are needed (Debian's chromium and chromium-driver; ops/test installs them)");
    ChromeOptions options = new ChromeOptions().setBinary(chromium).addArguments("--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1400,900", "--user-data-dir=" + Files.createTempDirectory("ferry-chromium"));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(Path.of(driver).toFile())
        .usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  void stop() {
    if (browser != null) browser.quit();
    if (agentA != null) agentA.terminate();
    if (agentB != null) agentB.terminate();
    if (cluster != null) cluster.close();
  }

  private WebElement await(String what, By by) {
    return new WebDriverWait(browser, Duration.ofSeconds(15)).withMessage(what)
        .until(ExpectedConditions.presenceOfElementLocated(by));
  }

  /** The page redraws its SVG as events come and time passes: a found element may go stale, so act until it holds. */
  private <T> T onFresh(String what, By by, java.util.function.Function<WebElement, T> act) {
    return new WebDriverWait(browser, Duration.ofSeconds(15)).withMessage(what).ignoring(StaleElementReferenceException.class)
        .until(d -> act.apply(d.findElement(by)));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> stats() {
    return (Map<String, Object>) ((JavascriptExecutor) browser).executeScript("return window.ferryUi.stats();");
  }

  @Test
  void aMigrationAppearsOnTheNewNodesRowWithinSecondsAndTheVmsAuditOpensOnAClick() throws Exception {
    cluster.activeTimeslot(a);
    String slotB = cluster.activeTimeslot(b);
    String vm = cluster.createRunning("ui", a, Flavour.TINY, "tiny");
    cluster.awaitVm(vm, runningOn(a));
    VmHandle before = cluster.handle(a, vm);
    TestImages.awaitCounting(QemuCluster.console(before), 3);

    browser.get(cluster.apiUrl + "/ui#token=" + cluster.userToken);
    await("the signed-in user", By.xpath("//span[@id='who' and contains(., 'signed in as alice')]"));
    assertEquals(cluster.apiUrl + "/ui", browser.getCurrentUrl(), "the token is taken out of the address bar");
    await("the VM on node a", By.cssSelector("rect.vm[data-vm='" + vm + "'][data-node='" + a + "']"));
    await("timeslot bar on b", By.cssSelector("rect.slot[data-timeslot='" + slotB + "'][data-stage='Active']"));

    HttpResponse<String> migrate = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(cluster.apiUrl + "/v1/vms/" + vm + "/migrate")).header("Authorization", "Bearer " + cluster.userToken)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"timeslot\":\"" + slotB + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, migrate.statusCode(), migrate.body());
    long asked = System.nanoTime();
    await("the VM on node b", By.cssSelector("rect.vm[data-vm='" + vm + "'][data-node='" + b + "'][data-open='yes']"));
    By mark = By.cssSelector("line[data-mark='migration'][data-vm='" + vm + "']");
    await("the migration mark", mark);
    System.out.printf("ui: the migration of %s was on the page %d ms after the request%n", vm, (System.nanoTime() - asked) / 1_000_000);
    assertEquals(a + " -> " + b, onFresh("the mark's nodes", mark, e -> e.getAttribute("data-from") + " -> " + e.getAttribute("data-to")));
    assertEquals(1, browser.findElements(By.cssSelector("rect.vm[data-vm='" + vm + "'][data-node='" + a + "'][data-open='no']")).size(),
        "its time on a is closed");
    QemuCluster.assertContinued(before, cluster.handle(b, vm));

    Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
    Path saved = Path.of("target", "ui-timeline.png");
    Files.copy(shot, saved, StandardCopyOption.REPLACE_EXISTING);
    System.out.println("ui: screenshot in " + saved.toAbsolutePath());

    onFresh("a click on the VM", By.cssSelector("rect.vm[data-vm='" + vm + "'][data-node='" + b + "']"), e -> {
      e.click();
      return true;
    });
    await("the audit timeline", By.xpath("//ol[@id='detail-steps']/li[contains(., 'VmMigrated')]"));
    assertTrue(browser.findElement(By.id("detail-title")).getText().contains(vm));

    // a dropped connection resumes from the last offset: nothing is drawn twice
    Map<String, Object> was = stats();
    ((JavascriptExecutor) browser).executeScript("window.ferryUi.reconnect();");
    new WebDriverWait(browser, Duration.ofSeconds(15)).withMessage("a reconnect")
        .until(d -> ((Number) stats().get("reconnects")).longValue() > ((Number) was.get("reconnects")).longValue()
            && browser.findElement(By.id("status")).getText().equals("live"));
    cluster.entities.vm(vm, r -> new io.ferry.controlplane.entity.Vm.StopVm(io.ferry.journal.Cause.user("alice"), r))
        .toCompletableFuture().join();
    await("the stop after the reconnect", By.cssSelector("rect.vm[data-vm='" + vm + "'][data-node='" + b + "'][data-open='no']"));
    assertEquals(0L, ((Number) stats().get("duplicates")).longValue(), "the resumed stream repeated nothing");
    assertEquals(2, browser.findElements(By.cssSelector("rect.vm[data-vm='" + vm + "']")).size(), "one segment per node, no copies");
    assertEquals(1, browser.findElements(By.cssSelector("line[data-mark='migration'][data-vm='" + vm + "']")).size());
  }

  @Test
  void aWrongTokenIsTurnedAwayWithAClearMessage() {
    browser.get(cluster.apiUrl + "/ui#token=not-a-token");
    WebElement error = await("the refusal", By.xpath("//p[@id='login-error' and string-length(.) > 0]"));
    assertTrue(error.getText().startsWith("This token is not valid"), error.getText());
    assertTrue(browser.findElement(By.id("main")).getAttribute("hidden") != null, "no timeline without a valid token");
  }
}
