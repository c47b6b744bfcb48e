package io.ferry.nodeagent.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A QMP client over a unix-domain socket, using only the JDK and Jackson.
 *
 * <p>{@link #connect} waits for the socket to appear, reads QEMU's greeting and negotiates
 * capabilities. Each command carries an id, so replies may arrive in any order; events arriving
 * in between go to the listeners. A line that is not JSON, or a reply to an id nobody waits for,
 * is logged and skipped; when the connection ends, every waiting command fails with
 * {@link QmpException.ConnectionLost}. QEMU accepts one QMP client per socket at a time.
 */
public final class QmpClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QmpClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path socket;
  private final SocketChannel channel;
  private final Duration defaultTimeout;
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final List<Consumer<QmpEvent>> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile boolean closing;

  private record Pending(String command, CompletableFuture<JsonNode> reply) {}

  private QmpClient(Path socket, SocketChannel channel, Duration defaultTimeout) {
    this.socket = socket;
    this.channel = channel;
    this.defaultTimeout = defaultTimeout;
  }

  /**
   * Connects, reads the greeting and enters command mode.
   *
   * @param timeout how long to wait for the socket to appear and for each of greeting and
   *     capabilities; also the default timeout of {@link #execute(String, Map)}
   */
  public static QmpClient connect(Path socket, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    SocketChannel channel = null;
    IOException last = null;
    while (channel == null) {
      try {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
          c.connect(UnixDomainSocketAddress.of(socket));
          channel = c;
        } catch (IOException e) {
          c.close();
          throw e;
        }
      } catch (IOException e) {
        last = e;
        if (System.nanoTime() > deadline) {
          throw new QmpException.ConnectionLost("cannot connect to QMP socket " + socket + " within "
              + timeout.toMillis() + " ms: " + (Files.exists(socket) ? e.getMessage() : "it does not exist"), e);
        }
        pause(20);
      }
    }
    QmpClient client = new QmpClient(socket, channel, timeout);
    Thread reader = new Thread(client::readLoop, "qmp-" + socket.getFileName());
    reader.setDaemon(true);
    reader.start();
    try {
      client.greeting.get(remaining(deadline, timeout), TimeUnit.NANOSECONDS);
      client.execute("qmp_capabilities", Map.of(), timeout);
      return client;
    } catch (TimeoutException e) {
      client.close();
      throw new QmpException.Timeout("QMP socket " + socket + " never answered: no greeting within "
          + timeout.toMillis() + " ms (is another client connected? QEMU serves one at a time)");
    } catch (ExecutionException e) {
      client.close();
      throw unwrap(e);
    } catch (InterruptedException e) {
      client.close();
      Thread.currentThread().interrupt();
      throw new QmpException("interrupted while connecting to " + socket, e);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  private static long remaining(long deadline, Duration floor) {
    return Math.max(deadline - System.nanoTime(), floor.toNanos() / 2);
  }

  /** Runs a command with the default timeout and returns its {@code return} value. */
  public JsonNode execute(String command, Map<String, ?> arguments) {
    return execute(command, arguments, defaultTimeout);
  }

  public JsonNode execute(String command) {
    return execute(command, Map.of(), defaultTimeout);
  }

  /**
   * Runs a command and waits for its reply.
   *
   * @throws QmpException.QemuError if QEMU answered with an error
   * @throws QmpException.Timeout if no reply came in time
   * @throws QmpException.ConnectionLost if the connection ended first
   */
  public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout) {
    try {
      return executeAsync(command, arguments).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new QmpException.Timeout("QEMU did not answer " + command + " within " + timeout.toMillis()
          + " ms on " + socket);
    } catch (ExecutionException e) {
      throw unwrap(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QmpException("interrupted while waiting for " + command, e);
    }
  }

  /** Sends a command; the future completes with its {@code return} value or a {@link QmpException}. */
  public CompletableFuture<JsonNode> executeAsync(String command, Map<String, ?> arguments) {
    String id = "ferry-" + ids.incrementAndGet();
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    if (closed.isDone()) {
      reply.completeExceptionally(new QmpException.ConnectionLost("QMP connection to " + socket + " is closed", null));
      return reply;
    }
    pending.put(id, new Pending(command, reply));
    reply.whenComplete((r, e) -> pending.remove(id));
    ObjectNode message = JSON.createObjectNode().put("execute", command).put("id", id);
    if (arguments != null && !arguments.isEmpty()) message.set("arguments", JSON.valueToTree(arguments));
    try {
      byte[] line = (JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
      synchronized (channel) {
        ByteBuffer buffer = ByteBuffer.wrap(line);
        while (buffer.hasRemaining()) channel.write(buffer);
      }
    } catch (IOException e) {
      reply.completeExceptionally(new QmpException.ConnectionLost("cannot send " + command + " to " + socket + ": " + e.getMessage(), e));
    }
    return reply;
  }

  public void addEventListener(Consumer<QmpEvent> listener) {
    listeners.add(listener);
  }

  public boolean isOpen() {
    return !closed.isDone();
  }

  /** Completes when the connection ends, from either side. */
  public CompletableFuture<Void> whenClosed() {
    return closed;
  }

  @Override
  public void close() {
    closing = true;
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing {}: {}", socket, e.toString());
    }
  }

  private void readLoop() {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isBlank()) handle(line.trim());
      }
      finish("QEMU closed the QMP connection on " + socket, null);
    } catch (IOException e) {
      finish(closing ? "QMP connection to " + socket + " was closed" : "QMP connection to " + socket + " broke: " + e.getMessage(), e);
    }
  }

  private void handle(String line) {
    JsonNode message;
    try {
      message = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      log.warn("skipping a line from {} that is not JSON: {}", socket, abbreviate(line));
      return;
    }
    if (message == null || !message.isObject()) {
      log.warn("skipping a QMP message from {} that is not an object: {}", socket, abbreviate(line));
      return;
    }
    if (message.has("QMP")) {
      greeting.complete(message.get("QMP"));
    } else if (message.has("event")) {
      JsonNode ts = message.path("timestamp");
      QmpEvent event = new QmpEvent(message.get("event").asText(), message.path("data"),
          Instant.ofEpochSecond(ts.path("seconds").asLong(), ts.path("microseconds").asLong() * 1000));
      for (Consumer<QmpEvent> l : listeners) {
        try {
          l.accept(event);
        } catch (RuntimeException e) {
          log.warn("QMP event listener failed on {}: {}", event.name(), e.toString());
        }
      }
    } else if (message.has("return") || message.has("error")) {
      Pending p = pending.get(message.path("id").asText(""));
      if (p == null) {
        log.warn("skipping a QMP reply from {} that no command waits for: {}", socket, abbreviate(line));
        return;
      }
      if (message.has("error")) {
        JsonNode error = message.get("error");
        p.reply.completeExceptionally(new QmpException.QemuError(p.command,
            error.path("class").asText("?"), error.path("desc").asText("(no description)")));
      } else {
        p.reply.complete(message.get("return"));
      }
    } else {
      log.warn("skipping an unknown QMP message from {}: {}", socket, abbreviate(line));
    }
  }

  private void finish(String why, Throwable cause) {
    QmpException.ConnectionLost lost = new QmpException.ConnectionLost(why, cause);
    greeting.completeExceptionally(lost);
    for (Pending p : pending.values()) p.reply.completeExceptionally(lost);
    closed.complete(null);
    try {
      channel.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  private static QmpException unwrap(ExecutionException e) {
    if (e.getCause() instanceof QmpException q) return q;
    return new QmpException(String.valueOf(e.getCause()), e.getCause());
  }

  private static String abbreviate(String line) {
    return line.length() <= 200 ? line : line.substring(0, 200) + "…";
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QmpException("interrupted", e);
    }
  }
}
