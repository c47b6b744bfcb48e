package io.ferry.controlplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferry.controlplane.api.ApiJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Predicate;

/** The CLI's HTTP client: JSON in, JSON out, and failures as {@link CliFailure} with an exit code. */
final class ApiClient {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String server;
  private final String token;

  ApiClient(String server, String token) {
    this.server = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
    this.token = token;
  }

  JsonNode get(String path) {
    return send("GET", path, null);
  }

  JsonNode post(String path, Object body) {
    return send("POST", path, body);
  }

  JsonNode delete(String path) {
    return send("DELETE", path, null);
  }

  private HttpRequest.Builder request(String method, String path, Object body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server + path)).header("Accept", "application/json");
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (body == null) return b.method(method, HttpRequest.BodyPublishers.noBody());
    return b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(ApiJson.write(body)));
  }

  JsonNode send(String method, String path, Object body) {
    try {
      HttpResponse<String> response = http.send(request(method, path, body).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = response.body().isBlank() ? ApiJson.MAPPER.nullNode() : ApiJson.MAPPER.readTree(response.body());
      if (response.statusCode() >= 400) throw CliFailure.fromProblem(response.statusCode(), json);
      return json;
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure(1, "interrupted");
    }
  }

  /**
   * Streams NDJSON lines of a long response to {@code onLine} until it returns false or the
   * response ends.
   */
  void stream(String method, String path, Object body, Predicate<JsonNode> onLine) {
    try {
      HttpResponse<java.io.InputStream> response = http.send(request(method, path, body).header("Accept", "application/x-ndjson").build(),
          HttpResponse.BodyHandlers.ofInputStream());
      if (response.statusCode() >= 400) {
        String text = new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
        throw CliFailure.fromProblem(response.statusCode(), text.isBlank() ? ApiJson.MAPPER.nullNode() : ApiJson.MAPPER.readTree(text));
      }
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          if (line.isBlank()) continue;
          if (!onLine.test(ApiJson.MAPPER.readTree(line))) return;
        }
      }
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure(1, "interrupted");
    }
  }

  private CliFailure unreachable(IOException e) {
    String why = e instanceof ConnectException ? "connection refused" : String.valueOf(e.getMessage());
    return new CliFailure(CliFailure.UNREACHABLE, "cannot reach Ferry at " + server + " (" + why + "). Is a control member"
        + " running (ops/control-plane.sh start)? Set the server with --server, FERRY_SERVER or `ferry config set --server`.");
  }
}
