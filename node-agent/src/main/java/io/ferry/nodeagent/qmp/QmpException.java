package io.ferry.nodeagent.qmp;

/** Something went wrong talking QMP. Subclasses say what. */
public class QmpException extends RuntimeException {
  public QmpException(String message) {
    super(message);
  }

  public QmpException(String message, Throwable cause) {
    super(message, cause);
  }

  /** QEMU answered a command with an error; {@link #errorClass()} and the message are QEMU's. */
  public static final class QemuError extends QmpException {
    private final String command;
    private final String errorClass;

    public QemuError(String command, String errorClass, String description) {
      super("QEMU refused " + command + ": " + description + " (" + errorClass + ")");
      this.command = command;
      this.errorClass = errorClass;
    }

    public String command() {
      return command;
    }

    /** QEMU's error class, for example {@code GenericError} or {@code CommandNotFound}. */
    public String errorClass() {
      return errorClass;
    }
  }

  /** No answer within the time allowed. */
  public static final class Timeout extends QmpException {
    public Timeout(String message) {
      super(message);
    }
  }

  /** The connection could not be made, or broke (QEMU exited, or the socket was closed). */
  public static final class ConnectionLost extends QmpException {
    public ConnectionLost(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
