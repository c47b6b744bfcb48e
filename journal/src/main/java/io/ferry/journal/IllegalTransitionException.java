package io.ferry.journal;

/** An event that may not follow the current stage of its entity. */
public final class IllegalTransitionException extends IllegalStateException {
  public IllegalTransitionException(String message) {
    super(message);
  }
}
