package io.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** A command that failed, with the exit code the CLI ends with and the message it prints. */
final class CliFailure extends RuntimeException {
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;
  static final int UNAUTHORIZED = 4;
  static final int NOT_FOUND = 5;
  static final int VIOLATIONS = 6;

  final int exitCode;

  CliFailure(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  static CliFailure fromProblem(int status, JsonNode problem) {
    String detail = problem.path("detail").asText(problem.toString());
    int code = switch (status) {
      case 401, 403 -> UNAUTHORIZED;
      case 404 -> NOT_FOUND;
      case 503 -> UNREACHABLE;
      default -> FAILED;
    };
    return new CliFailure(code, detail + " (HTTP " + status + ")");
  }
}
