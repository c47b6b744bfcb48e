package io.ferry.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the CLI finds its server and token: flags first, then FERRY_SERVER / FERRY_TOKEN, then the
 * config file ({@code $FERRY_CONFIG}, default {@code ~/.config/ferry/cli.json}), then
 * http://127.0.0.1:8080.
 */
record CliConfig(String server, String token) {
  static final String DEFAULT_SERVER = "http://127.0.0.1:8080";

  static Path file() {
    String env = System.getenv("FERRY_CONFIG");
    return env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".config", "ferry", "cli.json");
  }

  static CliConfig resolve(String serverFlag, String tokenFlag) {
    ObjectNode saved = read();
    String server = first(serverFlag, System.getenv("FERRY_SERVER"), saved.path("server").asText(null)).orElse(DEFAULT_SERVER);
    String token = first(tokenFlag, System.getenv("FERRY_TOKEN"), saved.path("token").asText(null)).orElse(null);
    return new CliConfig(server, token);
  }

  static ObjectNode read() {
    Path f = file();
    try {
      return Files.exists(f) ? (ObjectNode) Json.MAPPER.readTree(f.toFile()) : Json.MAPPER.createObjectNode();
    } catch (IOException | ClassCastException e) {
      throw new CliFailure(CliFailure.USAGE, "cannot read the CLI config " + f + ": " + e.getMessage());
    }
  }

  static void write(String server, String token) {
    ObjectNode node = read();
    if (server != null) node.put("server", server);
    if (token != null) node.put("token", token);
    Path f = file();
    try {
      Files.createDirectories(f.getParent());
      Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(f.toFile(), node);
    } catch (IOException e) {
      throw new CliFailure(CliFailure.FAILED, "cannot write the CLI config " + f + ": " + e.getMessage());
    }
  }

  private static Optional<String> first(String... values) {
    for (String v : values) if (v != null && !v.isBlank()) return Optional.of(v);
    return Optional.empty();
  }
}
