package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Node;
import io.ferry.controlplane.entity.Timeslot;
import io.ferry.journal.Cause;
import io.ferry.journal.node.NodeState;
import io.ferry.journal.timeslot.TimeslotRequest;
import io.ferry.journal.timeslot.TimeslotState;
import java.time.Duration;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /v1/timeslots} (list, show, request, release) and {@code /v1/nodes} (list, show). */
final class InfraApi extends ApiSupport {
  /** The body of {@code POST /v1/timeslots}; {@code walltime} as ISO-8601 ("PT30M") or minutes. */
  record RequestTimeslot(Integer cores, Integer memoryMiB, String walltime, String partition, String backend) {}

  private final Entities entities;
  private final Catalog catalog;
  private final String defaultBackend;

  InfraApi(Users users, Entities entities, Catalog catalog, Duration askTimeout, String defaultBackend) {
    super(users, askTimeout);
    this.entities = entities;
    this.catalog = catalog;
    this.defaultBackend = defaultBackend;
  }

  Route route(UsersFile.User user) {
    return concat(
        pathPrefix("timeslots", () -> concat(
            pathEnd(() -> concat(
                get(() -> complete(json(200, catalog.timeslots(user.admin() ? null : user.name()).stream().map(Views::timeslot)
                    .sorted(Comparator.comparing(Views.TimeslotView::id)).collect(Collectors.toList())))),
                post(() -> body(RequestTimeslot.class, body -> respond(safely(() -> request(user, body))))))),
            pathPrefix(PathMatchers.segment(), id -> concat(
                pathEnd(() -> get(() -> respond(owned(user, id).thenApply(s -> json(200, Views.timeslot(s)))))),
                path("release", () -> post(() -> respond(owned(user, id)
                    .thenCompose(s -> entities.timeslot(id, r -> new Timeslot.ReleaseTimeslot(Cause.user(user.name()), r)))
                    .thenApply(s -> json(202, Views.timeslot(s)))))))))),
        pathPrefix("nodes", () -> concat(
            pathEnd(() -> get(() -> complete(json(200, catalog.nodes().stream().map(Views::node)
                .sorted(Comparator.comparing(Views.NodeView::id)).collect(Collectors.toList()))))),
            path(PathMatchers.segment(), id -> get(() -> respond(entities.node(id, Node.GetNode::new).thenApply(s -> {
              if (s instanceof NodeState.Empty) throw ApiError.notFound("node " + id + " not found");
              return json(200, Views.node(s));
            })))))));
  }

  private CompletionStage<HttpResponse> request(UsersFile.User user, RequestTimeslot body) {
    if (body.cores() == null || body.memoryMiB() == null || body.walltime() == null) {
      throw ApiError.badRequest("a timeslot needs 'cores', 'memoryMiB' and 'walltime' (for example \"PT30M\" or \"30\" minutes)");
    }
    Duration walltime;
    try {
      walltime = body.walltime().matches("\\d+") ? Duration.ofMinutes(Long.parseLong(body.walltime())) : Duration.parse(body.walltime());
    } catch (java.time.format.DateTimeParseException e) {
      throw ApiError.badRequest("walltime '" + body.walltime() + "' is neither minutes nor an ISO-8601 duration like PT30M");
    }
    TimeslotRequest request;
    try {
      request = new TimeslotRequest(body.cores(), body.memoryMiB(), walltime, body.partition());
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    String id = "ts-" + UUID.randomUUID().toString().substring(0, 8);
    String backend = body.backend() == null ? defaultBackend : body.backend();
    return entities.timeslot(id, r -> new Timeslot.RequestTimeslot(user.name(), request, backend, Cause.user(user.name()), r))
        .thenApply(s -> {
          catalog.created(s);
          return json(201, Views.timeslot(s));
        });
  }

  private CompletionStage<TimeslotState> owned(UsersFile.User user, String id) {
    return entities.timeslot(id, Timeslot.GetTimeslot::new).thenApply(s -> {
      if (s instanceof TimeslotState.Empty || (!user.admin() && !user.name().equals(s.facts().owner()))) {
        throw ApiError.notFound("timeslot " + id + " not found");
      }
      return s;
    });
  }
}
