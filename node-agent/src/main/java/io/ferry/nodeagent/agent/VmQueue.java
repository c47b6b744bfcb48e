package io.ferry.nodeagent.agent;

import io.ferry.journal.agent.AgentCommand;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which VMs an agent is busy with, and the commands that came for them meanwhile. A command for a
 * busy VM is kept, never dropped, and handed back in order when the work ends; a command equal to
 * one already waiting is kept once (commands are idempotent, and entities re-send after recovery).
 */
final class VmQueue {
  private final Set<String> busy = new HashSet<>();
  private final Map<String, Deque<AgentCommand>> waiting = new HashMap<>();

  boolean busy(String vmId) {
    return busy.contains(vmId);
  }

  void begin(String vmId) {
    busy.add(vmId);
  }

  /** Work on the VM ended: the next waiting command, or {@code null}. */
  AgentCommand end(String vmId) {
    busy.remove(vmId);
    Deque<AgentCommand> q = waiting.get(vmId);
    if (q == null) return null;
    AgentCommand next = q.pollFirst();
    if (q.isEmpty()) waiting.remove(vmId);
    return next;
  }

  /** Keeps {@code command} until the VM's work ends. */
  void hold(AgentCommand command) {
    Deque<AgentCommand> q = waiting.computeIfAbsent(command.vmId(), v -> new ArrayDeque<>());
    if (!q.contains(command)) q.addLast(command);
  }

  int waiting(String vmId) {
    Deque<AgentCommand> q = waiting.get(vmId);
    return q == null ? 0 : q.size();
  }
}
