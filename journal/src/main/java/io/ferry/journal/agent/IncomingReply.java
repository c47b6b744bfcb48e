package io.ferry.journal.agent;

import io.ferry.journal.FerrySerializable;

/** A target agent's answers to {@link AgentCommand.PrepareIncoming} and {@link AgentCommand.ConfirmIncoming}. */
public sealed interface IncomingReply extends FerrySerializable {
  record Ready(String vmId, String uri) implements IncomingReply {}

  record Confirmed(String vmId) implements IncomingReply {}

  record Failed(String vmId, String reason) implements IncomingReply {}
}
