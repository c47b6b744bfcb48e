package io.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * The CLI's HTTP client: JSON in, JSON out, and failures as {@link CliFailure} with an exit code.
 * It is the JDK's {@link HttpURLConnection}, which loads a fraction of the classes of
 * {@code java.net.http.HttpClient} (whose start-up, SSL context included, took half of a CLI call).
 */
final class ApiClient {
  static final int CONNECT_TIMEOUT_MS = 5_000;

  static {
    // HttpURLConnection sends a POST again, once, when a kept-alive connection fails before the
    // answer; a POST here creates or moves a VM, and must go exactly once.
    System.setProperty("sun.net.http.retryPost", "false");
  }

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

  /** Sends one request and returns its JSON answer; an HTTP error becomes a {@link CliFailure} with the problem's detail. */
  JsonNode send(String method, String path, Object body) {
    HttpURLConnection c = open(method, path, body, "application/json");
    try {
      int status = c.getResponseCode();
      String text = readAll(status >= 400 ? c.getErrorStream() : c.getInputStream());
      JsonNode json = text.isBlank() ? Json.MAPPER.nullNode() : Json.MAPPER.readTree(text);
      if (status >= 400) throw CliFailure.fromProblem(status, json);
      return json;
    } catch (IOException e) {
      throw unreachable(e);
    } finally {
      c.disconnect();
    }
  }

  /**
   * Streams NDJSON lines of a long response to {@code onLine} until it returns false or the
   * response ends.
   */
  void stream(String method, String path, Object body, Predicate<JsonNode> onLine) {
    HttpURLConnection c = open(method, path, body, "application/x-ndjson");
    try {
      int status = c.getResponseCode();
      if (status >= 400) {
        String text = readAll(c.getErrorStream());
        throw CliFailure.fromProblem(status, text.isBlank() ? Json.MAPPER.nullNode() : Json.MAPPER.readTree(text));
      }
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          if (line.isBlank()) continue;
          if (!onLine.test(Json.MAPPER.readTree(line))) return;
        }
      }
    } catch (IOException e) {
      throw unreachable(e);
    } finally {
      c.disconnect();
    }
  }

  private HttpURLConnection open(String method, String path, Object body, String accept) {
    URL url;
    try {
      url = URI.create(server + path).toURL();
    } catch (IllegalArgumentException | MalformedURLException e) {
      throw new CliFailure(CliFailure.USAGE, "the server '" + server + "' is not a URL like http://host:8080 (" + e.getMessage() + ")");
    }
    try {
      HttpURLConnection c = (HttpURLConnection) url.openConnection();
      c.setConnectTimeout(CONNECT_TIMEOUT_MS);
      c.setRequestMethod(method);
      c.setRequestProperty("Accept", accept);
      if (token != null) c.setRequestProperty("Authorization", "Bearer " + token);
      if (body != null) {
        byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        c.setFixedLengthStreamingMode(bytes.length);
        try (OutputStream out = c.getOutputStream()) {
          out.write(bytes);
        }
      }
      return c;
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  private static String readAll(InputStream in) throws IOException {
    if (in == null) return "";
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private CliFailure unreachable(IOException e) {
    String why = e instanceof ConnectException ? "connection refused" : String.valueOf(e.getMessage());
    return new CliFailure(CliFailure.UNREACHABLE, "cannot reach Ferry at " + server + " (" + why + "). Is a control member"
        + " running (ops/control-plane.sh start)? Set the server with --server, FERRY_SERVER or `ferry config set --server`.");
  }
}
