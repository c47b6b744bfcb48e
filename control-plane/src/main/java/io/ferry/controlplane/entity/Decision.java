package io.ferry.controlplane.entity;

import java.util.List;

/** What a command handler decided: events to persist, a rejection, or nothing to change. */
public sealed interface Decision<E> {
  record Persist<E>(List<E> events) implements Decision<E> {}

  record Reject<E>(String reason) implements Decision<E> {}

  record Unchanged<E>() implements Decision<E> {}

  @SafeVarargs
  static <E> Decision<E> persist(E... events) {
    return new Persist<>(List.of(events));
  }

  static <E> Decision<E> reject(String reason) {
    return new Reject<>(reason);
  }

  /** The command is already satisfied (for example a repeated report): reply with the state. */
  static <E> Decision<E> unchanged() {
    return new Unchanged<>();
  }
}
