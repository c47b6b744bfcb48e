package io.ferry.controlplane.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.ferry.controlplane.ControlPlane;
import io.ferry.controlplane.entity.Node;
import io.ferry.journal.node.NodeCapacity;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every route of the HTTP API, with good and bad input, against a real control member and Cassandra. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiIT {
  ApiHarness api;

  @BeforeAll
  void start() throws Exception {
    api = new ApiHarness(io.ferry.journal.testing.TestKeyspaces.fresh("ferry_it"));
  }

  @AfterAll
  void stop() {
    if (api != null) api.close();
  }

  private static void assertProblem(ApiHarness.Reply r, int status, String fragment) {
    assertEquals(status, r.status(), String.valueOf(r.json()));
    assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
    assertEquals(status, r.json().path("status").asInt());
    assertTrue(r.json().path("detail").asText().contains(fragment), r.json().path("detail").asText());
  }

  private JsonNode created(String token, String body) {
    ApiHarness.Reply r = api.call("POST", "/v1/vms", token, body);
    assertEquals(201, r.status(), String.valueOf(r.json()));
    return r.json();
  }

  private JsonNode eventually(String path, String token, Predicate<JsonNode> done) {
    TestProbe<Object> probe = TestProbe.create(api.control);
    return probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(200), () -> {
      ApiHarness.Reply r = api.call("GET", path, token, null);
      assertTrue(done.test(r.json()), path + ": " + r.json());
      return r.json();
    });
  }

  @Test
  void healthNeedsNoTokenButEverythingElseDoes() {
    assertEquals(200, api.call("GET", "/v1/health", null, null).status());
    assertProblem(api.call("GET", "/v1/vms", null, null), 401, "no bearer token");
    assertProblem(api.call("GET", "/v1/vms", "fy_wrong", null), 401, "not valid");
    assertEquals(api.alice, api.call("GET", "/v1/whoami", api.aliceToken, null).json().path("user").asText());
    assertProblem(api.call("GET", "/v1/nowhere", api.aliceToken, null), 404, "no such route");
  }

  @Test
  void badRequestsToCreateAVmAreExplained() {
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{not json"), 400, "not valid JSON");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"colour\":\"red\"}"), 400, "unknown field 'colour'");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{\"flavour\":\"huge\",\"image\":\"tiny\"}"), 400, "unknown flavour 'huge'; choose one of tiny, small");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{\"flavour\":\"tiny\"}"), 400, "needs 'flavour' and 'image'");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"id\":\"Bad Id!\"}"), 400, "not valid");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"mode\":\"wobbly\"}"), 400, "unknown mode");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, ""), 400, "no body");
  }

  @Test
  void aUserSeesAndControlsOnlyTheirOwnVms() {
    String id = created(api.aliceToken, "{\"flavour\":\"small\",\"image\":\"tiny\",\"id\":\"own-" + api.run + "\"}").path("id").asText();
    assertEquals(api.alice + ".own-" + api.run, id, "a VM's id is its owner's name and the name given");
    assertProblem(api.call("POST", "/v1/vms", api.aliceToken, "{\"flavour\":\"small\",\"image\":\"tiny\",\"id\":\"own-" + api.run + "\"}"), 409, "already exists");
    assertEquals(id, api.call("GET", "/v1/vms/own-" + api.run, api.aliceToken, null).json().path("id").asText(), "a bare name is the caller's own");
    JsonNode shown = api.call("GET", "/v1/vms/" + id, api.aliceToken, null).json();
    assertEquals("Requested", shown.path("stage").asText());
    assertEquals(api.alice, shown.path("owner").asText());
    assertEquals(2048, shown.path("memoryMiB").asInt());

    JsonNode list = api.call("GET", "/v1/vms", api.aliceToken, null).json();
    assertTrue(list.findValuesAsText("id").contains(id), list.toString());
    JsonNode bobs = api.call("GET", "/v1/vms", api.bobToken, null).json();
    assertFalse(bobs.findValuesAsText("id").contains(id), bobs.toString());
    JsonNode all = api.call("GET", "/v1/vms", api.adminToken, null).json();
    assertTrue(all.findValuesAsText("id").contains(id));

    ApiHarness.Reply other = api.call("GET", "/v1/vms/" + id, api.bobToken, null);
    String nobody = api.alice + ".nobody-" + api.run;
    ApiHarness.Reply missing = api.call("GET", "/v1/vms/" + nobody, api.bobToken, null);
    assertProblem(other, 404, "not found");
    assertEquals(missing.status(), other.status());
    assertEquals(missing.json().path("detail").asText().replace(nobody, id), other.json().path("detail").asText(), "no existence leak");
    assertProblem(api.call("POST", "/v1/vms/" + id + "/stop", api.bobToken, "{}"), 404, "not found");
    assertProblem(api.call("DELETE", "/v1/vms/" + id, api.bobToken, null), 404, "not found");
    assertEquals(200, api.call("GET", "/v1/vms/" + id, api.adminToken, null).status(), "an admin sees it");
  }

  /**
   * Finding 7 of "a core that never lies": creating a VM with another user's VM's id answered
   * "409 … already exists (it is Running)". Ids are per user now: the same name is another VM,
   * and nothing of the other user's shows.
   */
  @Test
  void twoUsersMayNameTheirVmsAlikeAndNeitherLearnsOfTheOther() {
    String name = "web-" + api.run;
    String alices = created(api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"id\":\"" + name + "\"}").path("id").asText();
    JsonNode bobs = created(api.bobToken, "{\"flavour\":\"small\",\"image\":\"tiny\",\"id\":\"" + name + "\"}");
    assertEquals(api.bob + "." + name, bobs.path("id").asText());
    assertEquals("Requested", bobs.path("stage").asText());
    assertEquals("small", api.call("GET", "/v1/vms/" + name, api.bobToken, null).json().path("flavour").asText(), "bob's own");
    assertEquals("tiny", api.call("GET", "/v1/vms/" + name, api.aliceToken, null).json().path("flavour").asText(), "alice's own");
    assertProblem(api.call("GET", "/v1/vms/" + alices, api.bobToken, null), 404, "not found");
    assertProblem(api.call("POST", "/v1/vms", api.bobToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"id\":\"" + alices + "\"}"), 400,
        "is not valid");
  }

  @Test
  void illegalTransitionsAreConflictsWithTheReason() {
    String slot = api.activeTimeslot(api.alice, "n-" + api.run);
    String id = created(api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\"}").path("id").asText();
    assertProblem(api.call("POST", "/v1/vms/" + id + "/migrate", api.aliceToken, "{\"timeslot\":\"" + slot + "\"}"), 409, "MigrateVm needs it Running");
    assertProblem(api.call("POST", "/v1/vms/" + id + "/suspend", api.aliceToken, "{}"), 409, "SuspendVm needs it Running");
    assertProblem(api.call("POST", "/v1/vms/" + id + "/resume", api.aliceToken, "{\"timeslot\":\"" + slot + "\"}"), 409, "ResumeVm needs it Lost or Suspended");
    assertProblem(api.call("POST", "/v1/vms/" + id + "/migrate", api.aliceToken, "{}"), 400, "needs the target 'timeslot'");
    assertProblem(api.call("POST", "/v1/vms/" + id + "/migrate", api.aliceToken, "{\"timeslot\":\"nope\"}"), 404, "timeslot nope not found");
    assertProblem(api.call("DELETE", "/v1/vms/" + id, api.aliceToken, null), 409, "DeleteVm needs it");
    assertEquals("Stopped", api.call("POST", "/v1/vms/" + id + "/stop", api.aliceToken, "{}").json().path("stage").asText());
    assertEquals(202, api.call("POST", "/v1/vms/" + id + "/stop", api.aliceToken, "{}").status(), "stopping twice is fine");
    assertEquals("Deleted", api.call("DELETE", "/v1/vms/" + id, api.aliceToken, null).json().path("stage").asText());
    assertProblem(api.call("GET", "/v1/vms/" + id, api.aliceToken, null), 404, "not found");
  }

  @Test
  void aVmCreatedOnATimeslotIsPlacedAndFailsClearlyWhenNoAgentRunsThere() {
    String node = "n-" + api.run;
    String slot = api.activeTimeslot(api.alice, node);
    JsonNode vm = created(api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"timeslot\":\"" + slot + "\"}");
    assertEquals("Placed", vm.path("stage").asText());
    assertEquals(node, vm.path("node").asText());
    String id = vm.path("id").asText();
    JsonNode failed = eventually("/v1/vms/" + id, api.aliceToken, j -> j.path("stage").asText().equals("Failed"));
    assertTrue(failed.path("reason").asText().contains("no agent of node " + node), failed.toString());
    // A failed VM gives its room on the timeslot back.
    eventually("/v1/timeslots/" + slot, api.aliceToken, j -> !j.path("vms").toString().contains(id) && j.path("freeCores").asInt() == 4);
    assertProblem(api.call("POST", "/v1/vms", api.bobToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\",\"timeslot\":\"" + slot + "\"}"), 404,
        "timeslot " + slot + " not found");
  }

  @Test
  void timeslotsAreRequestedListedShownAndReleased() {
    assertProblem(api.call("POST", "/v1/timeslots", api.aliceToken, "{\"cores\":2,\"memoryMiB\":1024,\"walltime\":\"soon\"}"), 400, "walltime 'soon'");
    assertProblem(api.call("POST", "/v1/timeslots", api.aliceToken, "{\"cores\":0,\"memoryMiB\":1024,\"walltime\":\"30\"}"), 400, "cores must be positive");
    assertProblem(api.call("POST", "/v1/timeslots", api.aliceToken, "{\"cores\":2}"), 400, "needs 'cores', 'memoryMiB' and 'walltime'");
    ApiHarness.Reply r = api.call("POST", "/v1/timeslots", api.aliceToken, "{\"cores\":2,\"memoryMiB\":1024,\"walltime\":\"PT30M\",\"partition\":\"debug\"}");
    assertEquals(201, r.status(), String.valueOf(r.json()));
    String id = r.json().path("id").asText();
    assertEquals("Requested", r.json().path("stage").asText());
    assertEquals("PT30M", r.json().path("walltime").asText());
    assertTrue(api.call("GET", "/v1/timeslots", api.aliceToken, null).json().findValuesAsText("id").contains(id));
    assertFalse(api.call("GET", "/v1/timeslots", api.bobToken, null).json().findValuesAsText("id").contains(id));
    assertProblem(api.call("GET", "/v1/timeslots/" + id, api.bobToken, null), 404, "not found");
    assertEquals("debug", api.call("GET", "/v1/timeslots/" + id, api.aliceToken, null).json().path("partition").asText());
    assertEquals("Cancelled", api.call("POST", "/v1/timeslots/" + id + "/release", api.aliceToken, "{}").json().path("stage").asText());
    assertProblem(api.call("POST", "/v1/timeslots/" + id + "/release", api.aliceToken, "{}"), 409, "is Cancelled");
    JsonNode audit = api.call("GET", "/v1/audit/timeslots/" + id, api.aliceToken, null).json();
    assertEquals(List.of("TimeslotRequested", "TimeslotCancelled"), audit.path("steps").findValuesAsText("event"));
    assertEquals("Cancelled", audit.path("stateAt").path("stage").asText());
    assertProblem(api.call("GET", "/v1/audit/timeslots/" + id, api.bobToken, null), 404, "not found");
  }

  @Test
  void nodesAreListedAndShown() {
    String node = "node-" + api.run;
    api.entities.node(node, r -> new Node.RegisterNode("host-" + api.run, new NodeCapacity(8, 16384, Set.of("qemu")), "agent", r))
        .toCompletableFuture().join();
    JsonNode shown = api.call("GET", "/v1/nodes/" + node, api.bobToken, null).json();
    assertEquals("Joined", shown.path("stage").asText());
    assertEquals(8, shown.path("cores").asInt());
    eventually("/v1/nodes", api.bobToken, j -> j.findValuesAsText("id").contains(node));
    assertProblem(api.call("GET", "/v1/nodes/none-" + api.run, api.bobToken, null), 404, "not found");
  }

  @Test
  void auditShowsTimelinesToOwnersAndVerifyToAdmins() {
    String id = created(api.aliceToken, "{\"flavour\":\"tiny\",\"image\":\"tiny\"}").path("id").asText();
    api.call("POST", "/v1/vms/" + id + "/stop", api.aliceToken, "{}");
    JsonNode timeline = api.call("GET", "/v1/audit/vms/" + id, api.aliceToken, null).json();
    assertEquals(List.of("VmRequested", "VmStopped"), timeline.path("steps").findValuesAsText("event"));
    assertEquals("user", timeline.path("steps").get(0).path("cause").asText());
    assertEquals(api.alice, timeline.path("steps").get(0).path("by").asText());
    assertEquals("Stopped", timeline.path("stateAt").path("stage").asText());
    JsonNode before = api.call("GET", "/v1/audit/vms/" + id + "?at=2026-01-01T00:00:00Z", api.aliceToken, null).json();
    assertTrue(before.path("stateAt").isNull(), "it did not exist yet: " + before);
    assertProblem(api.call("GET", "/v1/audit/vms/" + id + "?at=yesterday", api.aliceToken, null), 400, "ISO-8601");
    assertProblem(api.call("GET", "/v1/audit/vms/" + id, api.bobToken, null), 404, "not found");
    assertProblem(api.call("GET", "/v1/audit/verify", api.aliceToken, null), 403, "admin");
    ApiHarness.Reply verify = api.call("GET", "/v1/audit/verify", api.adminToken, null);
    assertEquals(200, verify.status());
    assertTrue(verify.json().path("events").asLong() > 0);
  }

}
