package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * Typed actor references (the {@code replyTo} of commands) cross the wire as their full path,
 * resolved on arrival in the receiving actor system.
 */
final class ActorRefSerializer extends Serializer<ActorRef<?>> {
  private final ActorRefResolver resolver;

  ActorRefSerializer(ActorRefResolver resolver) {
    this.resolver = resolver;
    setImmutable(true);
  }

  @Override
  public void write(Kryo kryo, Output output, ActorRef<?> ref) {
    output.writeString(resolver.toSerializationFormat(ref));
  }

  @Override
  public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
    return resolver.resolveActorRef(input.readString());
  }
}
