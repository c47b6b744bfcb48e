package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
import io.ferry.controlplane.Entities;
import io.ferry.journal.Tags;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;

/**
 * Ferry's HTTP API on a control member ({@code ferry.api.*}): JSON over HTTP under {@code /v1},
 * bearer-token users, problem-JSON errors, and the event stream as server-sent events or NDJSON.
 */
public final class HttpApi extends ApiSupport {
  static final ContentType NDJSON = ContentTypes.create(MediaTypes.applicationWithFixedCharset("x-ndjson",
      org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8));

  private final VmApi vms;
  private final InfraApi infra;
  private final AuditApi audit;
  private final PolicyApi policies;
  private final EventStream events;
  private final Duration heartbeat;
  private final io.ferry.controlplane.metrics.ControlMetrics metrics;
  private final boolean publicMetrics;

  private HttpApi(ActorSystem<?> system, Users users, Entities entities, Catalog catalog, Duration askTimeout,
      Duration heartbeat, Duration auditGrace, String defaultBackend, io.ferry.controlplane.metrics.ControlMetrics metrics) {
    super(users, askTimeout);
    this.metrics = metrics;
    this.publicMetrics = system.settings().config().getBoolean("ferry.metrics.public");
    this.vms = new VmApi(system, users, entities, catalog, askTimeout);
    this.infra = new InfraApi(users, entities, catalog, askTimeout, defaultBackend);
    this.audit = new AuditApi(system, users, askTimeout, auditGrace);
    // the limits the keeper runs policies under, so that the check when one is applied is the same
    io.ferry.policies.PolicyEngine engine = new io.ferry.policies.PolicyEngine(
        io.ferry.policies.PolicyEngine.Limits.of(system.settings().config()));
    system.getWhenTerminated().thenRun(engine::close);
    this.policies = new PolicyApi(users, entities, catalog, askTimeout, engine);
    this.events = new EventStream(system, catalog, entities, metrics.subscribers());
    // up from the start, so that it has found the agents' topics before anyone watches a migration
    io.ferry.nodeagent.agent.ProgressTopic.of(system);
    this.heartbeat = heartbeat;
  }

  /** Starts the API as {@code ferry.api} configures it. */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, Entities entities, Catalog catalog,
      io.ferry.controlplane.metrics.ControlMetrics metrics) {
    var c = system.settings().config().getConfig("ferry.api");
    Users users = new Users(Path.of(c.getString("users-file")));
    HttpApi api = new HttpApi(system, users, entities, catalog,
        system.settings().config().getDuration("ferry.control.ask-timeout"), c.getDuration("heartbeat-interval"),
        c.getDuration("audit-grace"), c.getString("default-backend"), metrics);
    return Http.get(system).newServerAt(c.getString("host"), c.getInt("port")).bind(api.route());
  }

  Route route() {
    RejectionHandler rejections = RejectionHandler.newBuilder()
        .handleNotFound(complete(problem(404, "not found", "no such route; the API lives under /v1 (see the README)")))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(response -> response.entity().getContentType().equals(PROBLEM) ? response
            : problem(response.status().intValue(), response.status().reason(), response.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict s
                ? s.getData().utf8String() : response.status().defaultMessage()));
    ExceptionHandler exceptions = ExceptionHandler.newBuilder().matchAny(e -> complete(problemFor(e))).build();
    return handleExceptions(exceptions, () -> handleRejections(rejections, () -> concat(path("metrics", () -> get(this::metricsRoute)),
        pathPrefix("ui", () -> get(this::uiRoute)),
        pathPrefix("v1", () -> concat(
        path("health", () -> get(() -> complete(json(200, Map.of("status", "ok"))))),
        authenticated(user -> concat(
            path("whoami", () -> get(() -> complete(json(200, Map.of("user", user.name(), "admin", user.admin()))))),
            vms.route(user),
            infra.route(user),
            audit.route(user),
            policies.route(user),
            path("events", () -> get(() -> eventRoute(user))))))))));
  }

  private static final String UI = "io/ferry/controlplane/ui";

  /**
   * The timeline page ({@code /ui}): static files with no data in them, so no token is needed to
   * load them; the page asks for the user's token and reads everything through {@code /v1} with it.
   * Scripts only from this origin, none inline.
   */
  private Route uiRoute() {
    return respondWithHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Content-Security-Policy",
        "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"), () -> concat(
        pathEndOrSingleSlash(() -> getFromResource(UI + "/index.html")),
        getFromResourceDirectory(UI)));
  }

  /**
   * {@code /metrics} in Prometheus' text format: for an admin's token, or for anyone where the site
   * set {@code ferry.metrics.public} (its scrape then holds no per-owner series).
   */
  private Route metricsRoute() {
    Route scrape = extractRequest(request -> complete(HttpResponse.create().withEntity(HttpEntities.create(
        ContentTypes.parse(io.ferry.nodeagent.metrics.Metrics.CONTENT_TYPE), metrics.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8)))));
    if (publicMetrics) return scrape;
    return authenticated(user -> user.admin() ? scrape : complete(problem(403, "forbidden",
        "/metrics holds every user's figures: it needs an admin's token (or ferry.metrics.public = on, which drops the per-owner series)")));
  }

  private Route eventRoute(UsersFile.User user) {
    return parameterOptional("since", since -> parameterOptional("type", type -> parameterOptional("id", id ->
        parameterOptional("event", event -> parameterOptional("format", format -> parameterOptional("heartbeat", beat ->
        optionalHeaderValueByName("Accept", acceptHeader -> {
          String accept = acceptHeader.orElse("");
          Duration heartbeat = beat.map(b -> Duration.ofMillis(Math.max(200, Math.min(60_000, parseLong(b, this.heartbeat.toMillis())))))
              .orElse(this.heartbeat);
          Set<String> types = split(type.orElse(null));
          for (String t : types) {
            if (!Tags.ALL.contains(t)) return complete(problem(400, "bad request", "unknown entity type '" + t + "'; use vm, timeslot or node"));
          }
          EventStream.Filter filter = new EventStream.Filter(types, id.orElse(null), split(event.orElse(null)));
          var stream = safely(() -> java.util.concurrent.CompletableFuture.completedFuture(events.subscribe(user, filter, since.orElse(null))));
          if (stream.toCompletableFuture().isCompletedExceptionally()) return respond(stream.thenApply(s -> json(200, Map.of())));
          var source = stream.toCompletableFuture().join();
          boolean sse = format.map("sse"::equals).orElse(accept.contains("text/event-stream"));
          if (sse) {
            return completeOK(source.map(e -> ServerSentEvent.create(ApiJson.write(e), e.eventType(), e.offset()))
                .keepAlive(heartbeat, ServerSentEvent::heartbeat), EventStreamMarshalling.toEventStream());
          }
          return complete(HttpResponse.create().withEntity(HttpEntities.createChunked(NDJSON, source
              .map(ApiJson::write)
              .keepAlive(heartbeat, () -> ApiJson.write(Map.of("type", "heartbeat", "time", java.time.Instant.now().toString())))
              .map(l -> ByteString.fromString(l + "\n")))));
        })))))));
  }

  private static long parseLong(String s, long fallback) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static Set<String> split(String csv) {
    if (csv == null || csv.isBlank()) return Set.of();
    return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
  }
}
