package io.ferry.controlplane.entity;

import io.ferry.journal.FerrySerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * A command to an entity. Every command is answered: with the entity's state after it, or with an
 * error that says why the command was rejected.
 *
 * @param <S> the entity's state type
 */
public interface EntityCommand<S> extends FerrySerializable {
  ActorRef<StatusReply<S>> replyTo();
}
