package io.ferry.nodeagent.qmp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted QMP peer on a unix socket, for testing the client against replies real QEMU never
 * sends: malformed, truncated, out of order, or none at all. The test reads the client's lines
 * with {@link #nextLine()} and writes whatever it likes with {@link #send(String)}.
 */
final class FakeQmpServer implements AutoCloseable {
  static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}";

  final Path socket;
  private final ServerSocketChannel server;
  private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
  private volatile SocketChannel client;

  FakeQmpServer(Path dir) throws IOException {
    socket = dir.resolve("fake.qmp");
    Files.deleteIfExists(socket);
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
  }

  /** Accepts the client in the background; with {@code greet}, sends the greeting at once. */
  FakeQmpServer acceptInBackground(boolean greet) {
    Thread t = new Thread(() -> {
      try {
        client = server.accept();
        if (greet) send(GREETING);
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) received.add(line);
      } catch (IOException ignored) {
        // closed by the test
      }
    }, "fake-qmp");
    t.setDaemon(true);
    t.start();
    return this;
  }

  /** The next line the client sent, within 5 s. */
  String nextLine() throws InterruptedException {
    String line = received.poll(5, TimeUnit.SECONDS);
    if (line == null) throw new AssertionError("the client sent nothing within 5 s");
    return line;
  }

  /** The id of a command line the client sent. */
  static String idOf(String line) {
    int at = line.indexOf("\"id\":\"");
    return line.substring(at + 6, line.indexOf('"', at + 6));
  }

  void send(String raw) throws IOException {
    sendRaw(raw + "\r\n");
  }

  void sendRaw(String raw) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(raw.getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) client.write(b);
  }

  /** Answers the capabilities negotiation the client starts with. */
  void negotiate() throws Exception {
    String caps = nextLine();
    if (!caps.contains("qmp_capabilities")) throw new AssertionError("expected qmp_capabilities, got " + caps);
    send("{\"return\": {}, \"id\": \"" + idOf(caps) + "\"}");
  }

  void dropClient() throws IOException {
    client.close();
  }

  @Override
  public void close() throws IOException {
    if (client != null) client.close();
    server.close();
    Files.deleteIfExists(socket);
  }
}
