package io.ferry.nodeagent.driver;

/** A finished suspend: the file written, its size and how long saving took. */
public record SuspendOutcome(String file, long bytes, long totalMs) {}
