package io.ferry.controlplane.api;

import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.ferry.cli.UsersFile;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.pattern.StatusReply;

/** What every route shares: authentication, JSON in and out, and problem-JSON errors. */
abstract class ApiSupport extends AllDirectives {
  static final ContentType.WithFixedCharset PROBLEM = ContentTypes.create(MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8));

  final Users users;
  final Duration askTimeout;

  ApiSupport(Users users, Duration askTimeout) {
    this.users = users;
    this.askTimeout = askTimeout;
  }

  /** Runs {@code inner} for the user whose bearer token the request carries; 401 otherwise. */
  Route authenticated(Function<UsersFile.User, Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> {
      if (header.isEmpty()) {
        return complete(problem(401, "unauthorized", "no bearer token: send 'Authorization: Bearer <token>'"
            + " (bin/ferry reads it from --token, FERRY_TOKEN or its config file)"));
      }
      String h = header.get();
      Optional<UsersFile.User> user = h.regionMatches(true, 0, "Bearer ", 0, 7) ? users.authenticate(h.substring(7).trim()) : Optional.empty();
      if (user.isEmpty()) {
        return complete(problem(401, "unauthorized", "the bearer token is not valid: ask your Ferry admin for one (bin/ferry user add)"));
      }
      return inner.apply(user.get());
    });
  }

  /** Parses the request body as {@code type}; malformed JSON or unknown fields are a 400. */
  <T> Route body(Class<T> type, Function<T, Route> inner) {
    return entity(Unmarshaller.entityToString(), text -> {
      T value;
      try {
        if (text.isBlank()) throw ApiError.badRequest("the request has no body: send a JSON object");
        value = ApiJson.MAPPER.readValue(text, type);
      } catch (UnrecognizedPropertyException e) {
        return complete(problem(400, "bad request", "unknown field '" + e.getPropertyName() + "'; known fields: "
            + e.getKnownPropertyIds()));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        return complete(problem(400, "bad request", "the body is not valid JSON for this request: " + e.getOriginalMessage()));
      } catch (ApiError e) {
        return complete(problem(e));
      }
      return inner.apply(value);
    });
  }

  static HttpResponse json(int status, Object value) {
    return HttpResponse.create().withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, ApiJson.write(value)));
  }

  static HttpResponse problem(int status, String title, String detail) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", "about:blank");
    body.put("title", title);
    body.put("status", status);
    body.put("detail", detail);
    HttpResponse response = HttpResponse.create().withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(PROBLEM, ApiJson.write(body)));
    return status == 401 ? response.addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"ferry\"")) : response;
  }

  static HttpResponse problem(ApiError e) {
    return problem(e.status(), e.title(), e.getMessage());
  }

  /** Runs {@code work}, turning an exception it throws into a failed stage. */
  static <T> CompletionStage<T> safely(java.util.function.Supplier<CompletionStage<T>> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  /** Completes with the response, turning failures into problem JSON. */
  Route respond(CompletionStage<HttpResponse> response) {
    return completeWithFuture(response.exceptionally(this::problemFor));
  }

  HttpResponse problemFor(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) e = e.getCause();
    if (e instanceof ApiError api) return problem(api);
    if (e instanceof StatusReply.ErrorMessage || (e.getClass().getName().contains("StatusReply"))) {
      return problem(409, "conflict", e.getMessage());
    }
    if (e instanceof TimeoutException || e.getClass().getSimpleName().contains("Timeout")) {
      return problem(503, "unavailable", "Ferry's control plane did not answer within " + askTimeout.toSeconds()
          + " s; try again in a moment (if it persists, check the control members and Cassandra)");
    }
    if (e instanceof IllegalArgumentException) return problem(400, "bad request", e.getMessage());
    return problem(500, "internal error", String.valueOf(e.getMessage()));
  }
}
