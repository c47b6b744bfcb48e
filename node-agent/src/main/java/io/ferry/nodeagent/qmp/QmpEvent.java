package io.ferry.nodeagent.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** An asynchronous QMP event, for example {@code STOP}, {@code RESUME} or {@code MIGRATION}. */
public record QmpEvent(String name, JsonNode data, Instant timestamp) {}
