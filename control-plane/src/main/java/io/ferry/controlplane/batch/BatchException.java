package io.ferry.controlplane.batch;

/** The batch system refused or failed a request; the message carries what it said. */
public final class BatchException extends RuntimeException {
  public BatchException(String message) {
    super(message);
  }

  public BatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
