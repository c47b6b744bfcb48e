package io.ferry.loadtests;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.journal.vm.Flavour;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The users of a scale run, through the HTTP API as real users would: each requests its
 * timeslots (walltimes staggered so that they expire in rolling waves), creates its VMs of mixed
 * flavours on them, and — playing the part of a pool-keeping policy — asks for a replacement
 * timeslot whenever one of its timeslots starts expiring.
 */
final class ScaleWorkload {
  /** Flavours and their shares of the VMs. */
  static final List<Map.Entry<Flavour, Double>> MIX = List.of(
      Map.entry(Flavour.TINY, 0.4), Map.entry(Flavour.SMALL, 0.3), Map.entry(Flavour.MEDIUM, 0.2), Map.entry(Flavour.LARGE, 0.1));

  /** A planned timeslot. */
  record Slot(String id, String owner, int wave, Duration walltime) {}

  private final ScaleScenario scenario;
  private final BenchSupport.Api api;
  private final String adminToken;
  private final Map<String, String> tokens;
  private final Consumer<String> progress;
  private final Random random;
  private final Set<String> replaced = new HashSet<>();
  private final AtomicInteger replacements = new AtomicInteger();
  private final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());

  ScaleWorkload(ScaleScenario scenario, BenchSupport.Api api, String adminToken, Map<String, String> tokens, Consumer<String> progress) {
    this.scenario = scenario;
    this.api = api;
    this.adminToken = adminToken;
    this.tokens = tokens;
    this.progress = progress;
    this.random = new Random(scenario.seed());
  }

  List<String> users() {
    return new ArrayList<>(tokens.keySet());
  }

  /**
   * Requests the initial timeslots: slot i is in wave i mod waves (so the waves are equal in size,
   * whatever the number of users), and each user's slots are consecutive, so they fall in as many
   * successive waves as the user has slots.
   */
  List<Slot> requestSlots() {
    List<String> users = users();
    List<Slot> slots = new ArrayList<>();
    int perUser = Math.max(1, (scenario.slots() + users.size() - 1) / users.size());
    for (int i = 0; i < scenario.slots(); i++) {
      String owner = users.get((i / perUser) % users.size());
      int wave = i % scenario.waves();
      long jitterMs = (long) ((random.nextDouble() - 0.5) * 2 * scenario.jitter().toMillis());
      Duration walltime = scenario.firstExpiry().plus(scenario.waveInterval().multipliedBy(wave)).plusMillis(jitterMs);
      String id = request(owner, walltime);
      slots.add(new Slot(id, owner, wave, walltime));
    }
    return slots;
  }

  private String request(String owner, Duration walltime) {
    var a = api.post("/v1/timeslots", tokens.get(owner), Map.of("cores", scenario.slotCores(), "memoryMiB", scenario.slotMemoryMiB(),
        "walltime", "PT" + Math.max(1, walltime.toSeconds()) + "S", "backend", "sim"));
    if (!a.ok()) throw new IllegalStateException("user " + owner + " could not request a timeslot: " + a.problem());
    return a.body().get("id").asText();
  }

  /**
   * Waits until every one of {@code ids} is in {@code stage}. After {@code timeout}, it fails
   * naming the stages they are in — unless at least {@code enough} of them made it, in which case
   * the rest are recorded as workload problems and the run goes on.
   */
  void awaitStage(String what, String path, Set<String> ids, String stage, Duration timeout, double enough) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<String, String> stages = new HashMap<>();
      for (JsonNode n : api.get(path, adminToken).body()) stages.put(n.get("id").asText(), n.get("stage").asText());
      long done = ids.stream().filter(id -> stage.equals(stages.get(id))).count();
      progress.accept(what + ": " + done + "/" + ids.size() + " " + stage);
      if (done == ids.size()) return;
      if (System.nanoTime() > deadline) {
        Map<String, Long> byStage = new java.util.TreeMap<>();
        ids.forEach(id -> byStage.merge(String.valueOf(stages.get(id)), 1L, Long::sum));
        String late = ids.stream().filter(id -> !stage.equals(stages.get(id))).limit(20)
            .map(id -> id + " " + stages.get(id)).collect(java.util.stream.Collectors.joining(", "));
        String message = what + " did not all become " + stage + " within " + timeout.toSeconds() + " s: " + byStage + " (" + late + ")";
        if (done < enough * ids.size()) throw new IllegalStateException(message);
        problems.add(message);
        return;
      }
      BenchSupport.sleep(Duration.ofSeconds(1));
    }
  }

  /**
   * Creates the VMs, user by user round-robin, each on its owner's timeslot with the most free
   * memory; {@code parallel} requests at once. Returns the VM ids.
   */
  List<String> createVms(List<Slot> slots, String run, int parallel) throws Exception {
    Map<String, List<Slot>> byOwner = new LinkedHashMap<>();
    slots.forEach(s -> byOwner.computeIfAbsent(s.owner(), o -> new ArrayList<>()).add(s));
    Map<String, long[]> free = new HashMap<>(); // slot → {cores, memory}
    slots.forEach(s -> free.put(s.id(), new long[] {scenario.slotCores(), scenario.slotMemoryMiB()}));
    List<String> users = users();
    List<Map<String, Object>> bodies = new ArrayList<>();
    for (int j = 0; j < scenario.vms(); j++) {
      String owner = users.get(j % users.size());
      Flavour flavour = pick();
      Slot target = byOwner.get(owner).stream().filter(s -> free.get(s.id())[0] >= flavour.vcpus() && free.get(s.id())[1] >= flavour.memoryMiB())
          .max(java.util.Comparator.comparingLong(s -> free.get(s.id())[1]))
          .orElseThrow(() -> new IllegalStateException("the scenario does not fit: user " + owner + " has no room for VM " + bodies.size()
              + "; use fewer VMs or larger timeslots (--slot-memory-mib)"));
      free.get(target.id())[0] -= flavour.vcpus();
      free.get(target.id())[1] -= flavour.memoryMiB();
      bodies.add(Map.of("id", String.format("v%s-%05d", run, j), "flavour", flavour.name(), "image", "tiny", "timeslot", target.id(),
          "owner", owner));
    }
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    AtomicInteger created = new AtomicInteger();
    List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
    try {
      List<Future<?>> calls = new ArrayList<>();
      for (Map<String, Object> body : bodies) {
        calls.add(pool.submit(() -> {
          Map<String, Object> b = new HashMap<>(body);
          String owner = (String) b.remove("owner");
          var a = api.post("/v1/vms", tokens.get(owner), b);
          if (a.status() == 409 && a.problem().contains("already exists")) {
            // an earlier attempt timed out (503) but went through: fine if it got placed too
            var now = api.get("/v1/vms/" + body.get("id"), tokens.get(owner));
            if (now.ok() && !now.body().get("stage").asText().equals("Requested")) a = now;
            else if (now.ok()) { // created but not placed: start over under a new id, as a user would
              api.delete("/v1/vms/" + body.get("id"), tokens.get(owner));
              b.put("id", body.get("id") + "r");
              a = api.post("/v1/vms", tokens.get(owner), b);
            }
          }
          if (!a.ok()) {
            problems.add("VM " + body.get("id") + " of " + owner + " was not created: " + a.problem());
            return null;
          }
          ids.add(a.body().get("id").asText());
          int n = created.incrementAndGet();
          if (n % Math.max(1, scenario.vms() / 10) == 0) progress.accept("VMs created: " + n + "/" + scenario.vms());
          return null;
        }));
      }
      for (Future<?> f : calls) f.get();
    } finally {
      pool.shutdownNow();
    }
    return ids;
  }

  private Flavour pick() {
    double r = random.nextDouble();
    for (var e : MIX) {
      if ((r -= e.getValue()) < 0) return e.getKey();
    }
    return MIX.get(0).getKey();
  }

  /**
   * One pass of the pool keeper: every timeslot that started expiring gets a replacement for its
   * owner, with {@code walltime}, once. Returns the timeslots' stages by id.
   */
  Map<String, String> keepPools(Duration walltime) {
    Map<String, String> stages = new HashMap<>();
    for (JsonNode n : api.get("/v1/timeslots", adminToken).body()) {
      String id = n.get("id").asText();
      stages.put(id, n.get("stage").asText());
      if (!scenario.replace() || !n.get("stage").asText().equals("Expiring") || !replaced.add(id)) continue;
      try {
        request(n.get("owner").asText(), walltime);
        replacements.incrementAndGet();
      } catch (IllegalStateException e) {
        problems.add(e.getMessage());
      }
    }
    return stages;
  }

  int replacements() {
    return replacements.get();
  }

  List<String> problems() {
    return problems;
  }
}
