package io.ferry.nodeagent.driver;

/** A hypervisor step failed. The message says what, and what to do about it. */
public class HypervisorException extends RuntimeException {
  public HypervisorException(String message) {
    super(message);
  }

  public HypervisorException(String message, Throwable cause) {
    super(message, cause);
  }
}
