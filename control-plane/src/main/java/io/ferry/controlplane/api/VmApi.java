package io.ferry.controlplane.api;

import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.controlplane.entity.Vm;
import io.ferry.journal.Cause;
import io.ferry.journal.agent.MigrationProgress;
import io.ferry.journal.agent.MigrationSettings;
import io.ferry.journal.timeslot.Reservation;
import io.ferry.journal.timeslot.TimeslotState;
import io.ferry.journal.vm.Flavour;
import io.ferry.journal.vm.Placement;
import io.ferry.journal.vm.VmMode;
import io.ferry.journal.vm.VmSpec;
import io.ferry.journal.vm.VmState;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** {@code /v1/vms}: create, list, show, migrate, suspend, resume, stop, delete. */
final class VmApi extends ApiSupport {
  /** The body of {@code POST /v1/vms}. {@code id}, {@code mode} and {@code timeslot} are optional. */
  record CreateVm(String id, String flavour, String image, String mode, String timeslot) {}

  /** The body of {@code POST /v1/vms/{id}/migrate}; all but {@code timeslot} optional. */
  record Migrate(String timeslot, Long bandwidthMiBps, Long deadlineSeconds, Boolean postCopy, Boolean autoConverge) {}

  /** The body of {@code POST /v1/vms/{id}/resume}. */
  record Resume(String timeslot) {}

  private final ActorSystem<?> system;
  private final Entities entities;
  private final Catalog catalog;

  VmApi(ActorSystem<?> system, Users users, Entities entities, Catalog catalog, Duration askTimeout) {
    super(users, askTimeout);
    this.system = system;
    this.entities = entities;
    this.catalog = catalog;
  }

  Route route(Users.User user) {
    return pathPrefix("vms", () -> concat(
        pathEnd(() -> concat(
            get(() -> complete(json(200, catalog.vms(user.admin() ? null : user.name()).stream().map(Views::vm)
                .sorted(Comparator.comparing(Views.VmView::id)).collect(Collectors.toList())))),
            post(() -> body(CreateVm.class, body -> respond(safely(() -> create(user, body))))))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> concat(
                get(() -> respond(owned(user, id).thenApply(s -> json(200, Views.vm(s))))),
                delete(() -> respond(owned(user, id).thenCompose(s -> entities.vm(id, r -> new Vm.DeleteVm(Cause.user(user.name()), r)))
                    .thenApply(s -> json(200, Views.vm(s))))))),
            path("migrate", () -> post(() -> parameterOptional("watch", watch -> body(Migrate.class, body ->
                migrate(user, id, body, watch.map(Boolean::parseBoolean).orElse(false)))))),
            path("suspend", () -> post(() -> parameterOptional("watch", watch -> {
              CompletionStage<VmState> started = owned(user, id).thenCompose(s -> entities.vm(id,
                  r -> new Vm.SuspendVm(id + "-" + System.currentTimeMillis() + ".state", Cause.user(user.name()), r)));
              return watched(id, started, watch.map(Boolean::parseBoolean).orElse(false), s -> s instanceof VmState.Suspending, null);
            }))),
            path("resume", () -> post(() -> parameterOptional("watch", watch -> body(Resume.class, body -> {
              CompletionStage<VmState> started = owned(user, id).thenCompose(s -> reserve(user, body.timeslot(), s))
                  .thenCompose(p -> entities.vm(id, r -> new Vm.ResumeVm(p, Cause.user(user.name()), r)));
              return watched(id, started, watch.map(Boolean::parseBoolean).orElse(false), s -> s instanceof VmState.Resuming, null);
            })))),
            path("stop", () -> post(() -> respond(owned(user, id)
                .thenCompose(s -> entities.vm(id, r -> new Vm.StopVm(Cause.user(user.name()), r)))
                .thenApply(s -> json(202, Views.vm(s))))))))));
  }

  private CompletionStage<HttpResponse> create(Users.User user, CreateVm body) {
    if (body.flavour() == null || body.image() == null) {
      throw ApiError.badRequest("a VM needs 'flavour' and 'image'");
    }
    Flavour flavour = Flavour.named(body.flavour()).orElseThrow(() -> ApiError.badRequest("unknown flavour '" + body.flavour()
        + "'; choose one of " + Flavour.ALL.stream().map(Flavour::name).collect(Collectors.joining(", "))));
    if (!body.image().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw ApiError.badRequest("image name '" + body.image() + "' is not valid: letters, digits, '.', '_', '-'");
    }
    VmMode mode;
    try {
      mode = body.mode() == null ? VmMode.DYNAMIC : VmMode.valueOf(body.mode().toUpperCase());
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("unknown mode '" + body.mode() + "'; choose static or dynamic");
    }
    String id = body.id() == null ? "vm-" + UUID.randomUUID().toString().substring(0, 8) : body.id();
    if (!id.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw ApiError.badRequest("VM id '" + id + "' is not valid: lower-case letters, digits and '-', at most 63");
    }
    CompletionStage<VmState> created = entities.vm(id, r -> new Vm.CreateVm(new VmSpec(user.name(), flavour, body.image(), mode),
        Cause.user(user.name()), r));
    if (body.timeslot() != null) {
      created = created.thenCompose(s -> reserve(user, body.timeslot(), s))
          .thenCompose(p -> entities.vm(id, r -> new Vm.PlaceVm(p, Cause.user(user.name()), r)));
    }
    return created.thenApply(s -> {
      catalog.created(s);
      return json(201, Views.vm(s));
    });
  }

  private Route migrate(Users.User user, String id, Migrate body, boolean watch) {
    if (body.timeslot() == null) return complete(problem(400, "bad request", "a migration needs the target 'timeslot'"));
    MigrationSettings d = MigrationSettings.DEFAULT;
    MigrationSettings settings = new MigrationSettings(
        body.bandwidthMiBps() == null ? d.maxBandwidthBytesPerSec() : body.bandwidthMiBps() << 20, d.downtimeLimitMs(),
        body.postCopy() == null ? d.postCopy() : body.postCopy(), body.autoConverge() == null ? d.autoConverge() : body.autoConverge(),
        body.deadlineSeconds() == null ? d.deadline() : Duration.ofSeconds(body.deadlineSeconds()));
    if (settings.maxBandwidthBytesPerSec() <= 0 || settings.deadline().isNegative() || settings.deadline().isZero()) {
      return complete(problem(400, "bad request", "bandwidthMiBps and deadlineSeconds must be positive"));
    }
    Pair<org.apache.pekko.actor.ActorRef, Source<Object, NotUsed>> progress = watch
        ? Source.<Object>actorRef(m -> java.util.Optional.empty(), m -> java.util.Optional.empty(), 256, OverflowStrategy.dropHead()).preMaterialize(system)
        : null;
    ActorRef<MigrationProgress> progressTo = progress == null ? null : Adapter.toTyped(progress.first());
    CompletionStage<VmState> started = owned(user, id).thenCompose(s -> reserve(user, body.timeslot(), s))
        .thenCompose(p -> entities.vm(id, r -> new Vm.MigrateVm(p, settings, progressTo, Cause.user(user.name()), r)));
    return watched(id, started, watch, s -> s instanceof VmState.Migrating, progress == null ? null : progress.second());
  }

  /**
   * Answers 202 with the VM, or with {@code watch}, streams NDJSON: progress lines
   * ({@code {"type":"progress","percent":…}}) while the VM is {@code inFlight}, then
   * {@code {"type":"done","vm":{…}}}.
   */
  private Route watched(String id, CompletionStage<VmState> started, boolean watch, Predicate<VmState> inFlight,
      Source<Object, NotUsed> progress) {
    if (!watch) return respond(started.thenApply(s -> json(202, Views.vm(s))));
    return respond(started.thenApply(first -> {
      Source<String, NotUsed> done = Source.tick(Duration.ofMillis(200), Duration.ofMillis(200), "tick")
          .mapAsync(1, t -> entities.vm(id, Vm.GetVm::new))
          .filter(s -> !inFlight.test(s)).take(1)
          .map(s -> ApiJson.write(Map.of("type", "done", "vm", Views.vm(s))))
          .mapMaterializedValue(c -> NotUsed.getInstance());
      Source<String, NotUsed> lines = Source.single(ApiJson.write(Map.of("type", "started", "vm", Views.vm(first))));
      Source<String, NotUsed> ticks = progress == null ? done : progress
          .map(p -> (MigrationProgress) p)
          .map(p -> ApiJson.write(Map.of("type", "progress", "percent", p.percent(), "transferredBytes", p.transferredBytes(),
              "remainingBytes", p.remainingBytes())))
          .merge(done, true);
      return HttpResponse.create().withStatus(202).withEntity(HttpEntities.createChunked(
          HttpApi.NDJSON, lines.concat(ticks).map(l -> ByteString.fromString(l + "\n"))));
    }));
  }

  /** The VM, if it exists and the user may see it; a 404 either way otherwise (no existence leak). */
  private CompletionStage<VmState> owned(Users.User user, String id) {
    return entities.vm(id, Vm.GetVm::new).thenApply(s -> {
      boolean exists = !(s instanceof VmState.Empty) && !(s instanceof VmState.Deleted);
      if (!exists || (!user.admin() && !user.name().equals(s.facts().spec().owner()))) {
        throw ApiError.notFound("VM " + id + " not found");
      }
      return s;
    });
  }

  /** Reserves room for the VM on one of the user's active timeslots and returns where it goes. */
  private CompletionStage<Placement> reserve(Users.User user, String timeslotId, VmState vm) {
    if (timeslotId == null) return CompletableFuture.failedFuture(ApiError.badRequest("name the target 'timeslot'"));
    return entities.timeslot(timeslotId, Timeslot.GetTimeslot::new).thenCompose(slot -> {
      if (slot instanceof TimeslotState.Empty || (!user.admin() && !user.name().equals(slot.facts().owner()))) {
        throw ApiError.notFound("timeslot " + timeslotId + " not found");
      }
      Flavour f = vm.facts().spec().flavour();
      Reservation r = f.wholeNode() && slot.facts().request() != null
          ? new Reservation(vm.vmId(), Math.max(0, slot.facts().freeCores()), Math.max(0, slot.facts().freeMemoryMiB()))
          : new Reservation(vm.vmId(), f.vcpus(), f.memoryMiB());
      return entities.timeslot(timeslotId, ref -> new Timeslot.ReserveCapacity(r, ref))
          .thenApply(s -> new Placement(timeslotId, s.facts().nodeId()));
    });
  }
}
