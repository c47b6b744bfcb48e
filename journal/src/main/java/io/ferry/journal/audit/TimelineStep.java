package io.ferry.journal.audit;

import java.time.Instant;

/**
 * One step of an entity's timeline: what happened, the stage it led to, and why.
 *
 * @param cause  the kind of cause: "user", "timeslot-expiry", "policy", "failure", "agent",
 *               "batch-system" or "system"
 * @param by     who or what: a user, a timeslot, a policy and version, an agent's node
 * @param detail a sentence for people
 */
public record TimelineStep(long sequenceNr, Instant at, String event, String stageAfter, String cause, String by,
    String detail) {}
