package io.ferry.loadtests.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The campaign's network: a bridge {@code fchaos0} at {@value #HOST} in the root namespace (where
 * the control members and Cassandra are) and, per batch node, a network namespace
 * {@code fchaos-<node>} joined to it by a veth pair, with its own address. A node's agent (and the
 * QEMUs it starts) runs in its namespace, so cutting the node off is taking its veth down: a real
 * partition while every process keeps running. Cassandra listens on loopback only; socat forwards
 * {@value #HOST}:9042 to it. Only addresses of 10.77.0.0/24, which nothing else on the machine
 * uses, are made; {@link #close} removes all of it (and a run that died is cleaned up by the next).
 */
final class ChaosNet implements AutoCloseable {
  static final String HOST = "10.77.0.1";
  static final String BRIDGE = "fchaos0";
  static final int CQL = 9042;

  private final Map<String, String> addresses = new LinkedHashMap<>();
  private Process forwarder;

  private ChaosNet() {}

  /** Makes the bridge, one namespace per node, and the Cassandra forwarder. */
  static ChaosNet create(List<String> nodes) {
    ChaosNet net = new ChaosNet();
    removeLeftovers(nodes);
    sh("ip link add " + BRIDGE + " type bridge");
    sh("ip addr add " + HOST + "/24 dev " + BRIDGE);
    sh("ip link set " + BRIDGE + " up");
    int i = 10;
    for (String node : nodes) {
      String ns = namespace(node);
      String address = "10.77.0." + (++i);
      sh("ip netns add " + ns);
      sh("ip netns exec " + ns + " ip link set lo up");
      sh("ip link add " + hostSide(node) + " type veth peer name " + hostSide(node) + "g");
      sh("ip link set " + hostSide(node) + "g netns " + ns);
      sh("ip netns exec " + ns + " ip link set " + hostSide(node) + "g name eth0");
      sh("ip netns exec " + ns + " ip addr add " + address + "/24 dev eth0");
      sh("ip netns exec " + ns + " ip link set eth0 up");
      sh("ip link set " + hostSide(node) + " master " + BRIDGE);
      sh("ip link set " + hostSide(node) + " up");
      net.addresses.put(node, address);
    }
    try {
      net.forwarder = new ProcessBuilder("socat", "TCP-LISTEN:" + CQL + ",bind=" + HOST + ",fork,reuseaddr", "TCP:127.0.0.1:" + CQL)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      net.close();
      throw new IllegalStateException("cannot start socat (apt-get install socat; ops/chaos installs it): " + e.getMessage(), e);
    }
    return net;
  }

  static String namespace(String node) {
    return "fchaos-" + node;
  }

  /** The root-namespace end of a node's veth (at most 15 characters). */
  private static String hostSide(String node) {
    return "fc-" + node;
  }

  /** The node's address in its namespace. */
  String address(String node) {
    String a = addresses.get(node);
    if (a == null) throw new IllegalArgumentException("no namespace for node " + node + " (nodes: " + addresses.keySet() + ")");
    return a;
  }

  /** Cuts the node off: no packet between its namespace and anything else until {@link #heal}. */
  void cut(String node) {
    address(node);
    sh("ip link set " + hostSide(node) + " down");
  }

  void heal(String node) {
    address(node);
    sh("ip link set " + hostSide(node) + " up");
  }

  /** Heals every node (the end of a case). */
  void healAll() {
    addresses.keySet().forEach(this::heal);
  }

  @Override
  public void close() {
    if (forwarder != null) forwarder.destroyForcibly();
    removeLeftovers(List.copyOf(addresses.keySet()));
  }

  private static void removeLeftovers(List<String> nodes) {
    for (String node : nodes) {
      quietly("ip netns del " + namespace(node));
      quietly("ip link del " + hostSide(node));
    }
    quietly("ip link del " + BRIDGE);
  }

  /** Runs a command line (no shell), failing with its output if it fails. */
  static String sh(String commandLine) {
    Result r = run(commandLine);
    if (r.status != 0) throw new IllegalStateException("'" + commandLine + "' failed (" + r.status + "): " + r.output.strip());
    return r.output;
  }

  private static void quietly(String commandLine) {
    run(commandLine);
  }

  private record Result(int status, String output) {}

  private static Result run(String commandLine) {
    List<String> command = new ArrayList<>(List.of(commandLine.split(" ")));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      return new Result(-1, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
