package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
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
import io.ferry.journal.vm.VmEvent;
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
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.pattern.StatusReply;

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
  private final CassandraReadJournal journal;

  VmApi(ActorSystem<?> system, Users users, Entities entities, Catalog catalog, Duration askTimeout) {
    super(users, askTimeout);
    this.system = system;
    this.entities = entities;
    this.catalog = catalog;
    this.journal = PersistenceQuery.get(Adapter.toClassic(system))
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
  }

  Route route(UsersFile.User user) {
    return pathPrefix("vms", () -> concat(
        pathEnd(() -> concat(
            get(() -> complete(json(200, catalog.vms(user.admin() ? null : user.name()).stream().map(Views::vm)
                .sorted(Comparator.comparing(Views.VmView::id)).collect(Collectors.toList())))),
            post(() -> body(CreateVm.class, body -> respond(safely(() -> create(user, body))))))),
        pathPrefix(PathMatchers.segment(), given -> vm(user, VmIds.qualified(user, given)))));
  }

  private Route vm(UsersFile.User user, String id) {
    return concat(
            pathEnd(() -> concat(
                get(() -> respond(owned(user, id).thenApply(s -> json(200, Views.vm(s))))),
                delete(() -> respond(owned(user, id).thenCompose(s -> entities.vm(id, r -> new Vm.DeleteVm(Cause.user(user.name()), r)))
                    .thenApply(s -> json(200, Views.vm(s))))))),
            path("migrate", () -> post(() -> parameterOptional("watch", watch -> body(Migrate.class, body ->
                migrate(user, id, body, watch.map(Boolean::parseBoolean).orElse(false)))))),
            path("suspend", () -> post(() -> parameterOptional("watch", watch -> {
              CompletionStage<VmState> started = owned(user, id).thenCompose(s -> entities.vm(id,
                  r -> new Vm.SuspendVm(id + "-" + System.currentTimeMillis() + ".state", Cause.user(user.name()), r)));
              return watched(id, started, watch.map(Boolean::parseBoolean).orElse(false), s -> s instanceof VmState.Suspending,
                  (first, s) -> s instanceof VmState.Suspended, null);
            }))),
            path("resume", () -> post(() -> parameterOptional("watch", watch -> body(Resume.class, body -> {
              CompletionStage<VmState> started = owned(user, id).thenCompose(s -> placed(user, body.timeslot(), s,
                  p -> entities.vm(id, r -> new Vm.ResumeVm(p, Cause.user(user.name()), r))));
              return watched(id, started, watch.map(Boolean::parseBoolean).orElse(false), s -> s instanceof VmState.Resuming,
                  (first, s) -> s instanceof VmState.Running, null);
            })))),
            path("progress", () -> get(() -> progress(user, id))),
            path("stop", () -> post(() -> respond(owned(user, id)
                .thenCompose(s -> entities.vm(id, r -> new Vm.StopVm(Cause.user(user.name()), r)))
                .thenApply(s -> json(202, Views.vm(s)))))));
  }

  private CompletionStage<HttpResponse> create(UsersFile.User user, CreateVm body) {
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
    String name = body.id() == null ? "vm-" + UUID.randomUUID().toString().substring(0, 8) : body.id();
    if (!name.matches(VmIds.NAME)) {
      throw ApiError.badRequest("VM name '" + name + "' is not valid: lower-case letters, digits and '-', at most 63"
          + " (Ferry makes the VM's id from your user name and it: " + VmIds.of(user.name(), "NAME") + ")");
    }
    String id = VmIds.of(user.name(), name);
    CompletionStage<VmState> created = entities.vm(id, r -> new Vm.CreateVm(new VmSpec(user.name(), flavour, body.image(), mode),
        Cause.user(user.name()), r));
    if (body.timeslot() != null) {
      created = created.thenCompose(s -> placed(user, body.timeslot(), s,
          p -> entities.vm(id, r -> new Vm.PlaceVm(p, Cause.user(user.name()), r))));
    }
    return created.thenApply(s -> {
      catalog.created(s);
      return json(201, Views.vm(s));
    });
  }

  private Route migrate(UsersFile.User user, String id, Migrate body, boolean watch) {
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
    CompletionStage<VmState> started = owned(user, id).thenCompose(s -> placed(user, body.timeslot(), s,
        p -> entities.vm(id, r -> new Vm.MigrateVm(p, settings, progressTo, Cause.user(user.name()), r))));
    return watched(id, started, watch, s -> s instanceof VmState.Migrating,
        (first, s) -> s instanceof VmState.Running && first instanceof VmState.Migrating m && m.target().equals(s.facts().placement()),
        progress == null ? null : progress.second());
  }

  /** Ends a progress subscription that will have no stream. */
  private static final Object UNSUBSCRIBE = new Object();

  /**
   * {@code GET /v1/vms/{id}/progress}: the migration in flight, as the migrate request's watch
   * streams it, from whichever control member is asked (the source agent publishes its progress on
   * the cluster's {@link io.ferry.nodeagent.agent.ProgressTopic}). 409 if none is in flight.
   */
  private Route progress(UsersFile.User user, String id) {
    var topic = io.ferry.nodeagent.agent.ProgressTopic.of(system);
    CompletionStage<VmState> migrating = owned(user, id).thenApply(s -> {
      if (!(s instanceof VmState.Migrating)) {
        throw ApiError.conflict("VM " + id + " is " + s.stage() + ": no migration is in flight (watch one with"
            + " POST /v1/vms/" + id + "/migrate?watch=true, or ask here while it is Migrating)");
      }
      return s;
    });
    Pair<org.apache.pekko.actor.ActorRef, Source<Object, NotUsed>> progress = Source.<Object>actorRef(
            m -> m == UNSUBSCRIBE ? java.util.Optional.of(org.apache.pekko.stream.CompletionStrategy.immediately()) : java.util.Optional.empty(),
            m -> java.util.Optional.empty(), 256, OverflowStrategy.dropHead())
        .preMaterialize(system);
    ActorRef<MigrationProgress> subscriber = Adapter.toTyped(progress.first());
    topic.tell(org.apache.pekko.actor.typed.pubsub.Topic.subscribe(subscriber));
    // the subscriber's actor stops with the stream (or at once if there will be none), and the topic forgets it
    migrating.whenComplete((s, e) -> {
      if (e != null) progress.first().tell(UNSUBSCRIBE, org.apache.pekko.actor.ActorRef.noSender());
    });
    return watched(id, migrating, true, s -> s instanceof VmState.Migrating,
        (first, s) -> s instanceof VmState.Running && first instanceof VmState.Migrating m && m.target().equals(s.facts().placement()),
        progress.second().filter(p -> p instanceof MigrationProgress mp && mp.vmId().equals(id)));
  }

  /**
   * Answers 202 with the VM, or with {@code watch}, streams NDJSON: progress lines
   * ({@code {"type":"progress","percent":…}}) while the VM is {@code inFlight}, then
   * {@code {"type":"done","outcome":"succeeded"|"failed","reason":…,"vm":{…}}}: the operation
   * succeeded if {@code succeeded} holds of the state it began in and the state it ended in;
   * otherwise the reason is the failure the journal recorded after the operation's attempt.
   */
  private Route watched(String id, CompletionStage<VmState> started, boolean watch, Predicate<VmState> inFlight,
      java.util.function.BiPredicate<VmState, VmState> succeeded, Source<Object, NotUsed> progress) {
    if (!watch) return respond(started.thenApply(s -> json(202, Views.vm(s))));
    return respond(started.thenApply(first -> {
      Source<String, NotUsed> done = Source.tick(Duration.ofMillis(200), Duration.ofMillis(200), "tick")
          .mapAsync(1, t -> entities.vm(id, Vm.GetVm::new))
          .filter(s -> !inFlight.test(s)).take(1)
          .mapAsync(1, s -> succeeded.test(first, s)
              ? CompletableFuture.completedFuture(doneLine("succeeded", null, s))
              : failureAfter(first).thenApply(reason -> doneLine("failed", reason != null ? reason
                  : "it ended " + s.stage() + " instead", s)))
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

  private static String doneLine(String outcome, String reason, VmState s) {
    Map<String, Object> line = new java.util.LinkedHashMap<>();
    line.put("type", "done");
    line.put("outcome", outcome);
    if (reason != null) line.put("reason", reason);
    line.put("vm", Views.vm(s));
    return ApiJson.write(line);
  }

  /**
   * The reason of the first failure the journal holds after the event that began {@code first}'s
   * attempt (attempt "aN" is begun by event N), or {@code null} if there is none.
   */
  private CompletionStage<String> failureAfter(VmState first) {
    String attempt = first.facts().attempt();
    if (attempt == null || !attempt.matches("a\\d+")) return CompletableFuture.completedFuture(null);
    long begun = Long.parseLong(attempt.substring(1));
    return journal.currentEventsByPersistenceId(PersistenceId.of(Vm.ENTITY_KEY.name(), first.vmId()).id(), begun + 1, Long.MAX_VALUE)
        .map(e -> failureReason(e.event()))
        .filter(java.util.Objects::nonNull)
        .runWith(Sink.headOption(), system)
        .thenApply(r -> r.orElse(null));
  }

  private static String failureReason(Object event) {
    if (event instanceof VmEvent.VmMigrationFailed e) return e.reason();
    if (event instanceof VmEvent.VmSuspendFailed e) return e.reason();
    if (event instanceof VmEvent.VmResumeFailed e) return e.reason();
    if (event instanceof VmEvent.VmFailed e) return e.reason();
    if (event instanceof VmEvent.VmLost e) return "the VM was lost: " + e.reason();
    if (event instanceof VmEvent.VmStopRequested e) return "the VM was asked to stop meanwhile";
    return null;
  }

  /** The VM, if it exists and the user may see it; a 404 either way otherwise (no existence leak). */
  private CompletionStage<VmState> owned(UsersFile.User user, String id) {
    return entities.vm(id, Vm.GetVm::new).thenApply(s -> {
      boolean exists = !(s instanceof VmState.Empty) && !(s instanceof VmState.Deleted);
      if (!exists || (!user.admin() && !user.name().equals(s.facts().spec().owner()))) {
        throw ApiError.notFound("VM " + id + " not found");
      }
      return s;
    });
  }

  /**
   * Reserves room on the timeslot, then asks the VM to use it; if the VM refuses (its stage does
   * not allow the step), the room is given back, so a refused request leaves nothing reserved. A
   * VM that did not answer in time may have taken the room: it keeps it (the VM frees it when the
   * step ends without using it).
   */
  private CompletionStage<VmState> placed(UsersFile.User user, String timeslotId, VmState vm,
      java.util.function.Function<Placement, CompletionStage<VmState>> use) {
    return reserve(user, timeslotId, vm).thenCompose(p -> use.apply(p).handle((s, error) -> {
      if (error == null) return CompletableFuture.completedFuture(s);
      Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
      if (!(cause instanceof StatusReply.ErrorMessage)) return CompletableFuture.<VmState>failedFuture(error);
      entities.timeslot(p.timeslotId(), r -> new Timeslot.FreeCapacity(vm.vmId(), r))
          .whenComplete(Entities.logFailure(org.slf4j.LoggerFactory.getLogger(VmApi.class),
              "giving back the room of VM " + vm.vmId() + " on timeslot " + p.timeslotId()));
      return CompletableFuture.<VmState>failedFuture(error);
    }).thenCompose(f -> f));
  }

  /** Reserves room for the VM on one of the user's active timeslots and returns where it goes. */
  private CompletionStage<Placement> reserve(UsersFile.User user, String timeslotId, VmState vm) {
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
