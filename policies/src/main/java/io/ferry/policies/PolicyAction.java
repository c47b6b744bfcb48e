package io.ferry.policies;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a policy may ask for: the narrow port. Scripts build these with the {@code ferry.*}
 * functions; the engine checks each one's fields ({@link #parse}) and the deadline rules
 * ({@link DeadlineRules}) before anything is applied.
 */
public sealed interface PolicyAction {
  /** Move a running VM live to another timeslot. */
  record Migrate(String vmId, String timeslotId) implements PolicyAction {}

  /** Save a running VM to shared storage. */
  record Suspend(String vmId) implements PolicyAction {}

  /** Restore a suspended VM on a timeslot. */
  record Resume(String vmId, String timeslotId) implements PolicyAction {}

  /** Stop a VM. */
  record Stop(String vmId) implements PolicyAction {}

  /** Ask the batch system for a new timeslot. */
  record RequestTimeslot(int cores, int memoryMiB, long walltimeSeconds, String partition) implements PolicyAction {}

  /** Give a timeslot back (its job is cancelled). */
  record Release(String timeslotId) implements PolicyAction {}

  /** (site-wide policies, on {@code limits}) At most this many timeslots per user. */
  record Limit(int maxTimeslots) implements PolicyAction {}

  /**
   * One action as a script returned it: {@code {"action": "migrate", "vm": ..., "timeslot": ...}}.
   *
   * @throws IllegalArgumentException naming what is wrong, for the {@code PolicyFailed} record
   */
  static PolicyAction parse(JsonNode a) {
    String kind = a.path("action").asText("");
    return switch (kind) {
      case "migrate" -> new Migrate(text(a, "vm"), text(a, "timeslot"));
      case "suspend" -> new Suspend(text(a, "vm"));
      case "resume" -> new Resume(text(a, "vm"), text(a, "timeslot"));
      case "stop" -> new Stop(text(a, "vm"));
      case "requestTimeslot" -> new RequestTimeslot(positive(a, "cores"), positive(a, "memoryMiB"), positive(a, "walltimeSeconds"),
          a.path("partition").isTextual() ? a.path("partition").asText() : "");
      case "release" -> new Release(text(a, "timeslot"));
      case "limit" -> new Limit(positive(a, "maxTimeslots"));
      default -> throw new IllegalArgumentException("unknown action '" + kind + "' in " + a
          + " (known: migrate, suspend, resume, stop, requestTimeslot, release, limit)");
    };
  }

  private static String text(JsonNode a, String field) {
    JsonNode v = a.path(field);
    if (!v.isTextual() || v.asText().isBlank()) {
      throw new IllegalArgumentException(a.path("action").asText() + " needs a text field '" + field + "': " + a);
    }
    return v.asText();
  }

  private static int positive(JsonNode a, String field) {
    JsonNode v = a.path(field);
    if (!v.isNumber() || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(a.path("action").asText() + " needs a positive number '" + field + "': " + a);
    }
    return v.asInt();
  }
}
