package io.ferry.journal;

import java.util.Objects;

/**
 * Why a step happened, carried by the events that record a decision so that an audit timeline can
 * explain every move: a user's request, a timeslot's expiry, a policy's decision or a failure.
 *
 * @param kind   what kind of cause
 * @param actor  who or what caused it: a user name, a timeslot id, a policy name and version
 * @param detail free text a person can read, never {@code null}
 */
public record Cause(Kind kind, String actor, String detail) implements FerrySerializable {

  public enum Kind implements FerrySerializable {
    USER,
    TIMESLOT_EXPIRY,
    POLICY,
    FAILURE,
    SYSTEM
  }

  public Cause {
    Objects.requireNonNull(kind, "kind");
    actor = actor == null ? "" : actor;
    detail = detail == null ? "" : detail;
  }

  public static Cause user(String user) {
    return new Cause(Kind.USER, user, "requested by " + user);
  }

  public static Cause expiry(String timeslotId) {
    return new Cause(Kind.TIMESLOT_EXPIRY, timeslotId, "timeslot " + timeslotId + " is expiring");
  }

  public static Cause policy(String policyAndVersion, String detail) {
    return new Cause(Kind.POLICY, policyAndVersion, detail);
  }

  public static Cause failure(String detail) {
    return new Cause(Kind.FAILURE, "", detail);
  }

  public static Cause system(String detail) {
    return new Cause(Kind.SYSTEM, "ferry", detail);
  }
}
