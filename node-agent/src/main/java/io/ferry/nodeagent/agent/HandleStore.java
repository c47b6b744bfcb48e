package io.ferry.nodeagent.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ferry.nodeagent.driver.VmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handles of the VMs this node runs, one JSON file each, written atomically, so that an agent
 * restarted after a crash finds its VMs again and re-attaches instead of killing them.
 */
final class HandleStore {
  private static final Logger log = LoggerFactory.getLogger(HandleStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;

  HandleStore(Path dir) {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the agent's handle folder " + dir + ": " + e.getMessage(), e);
    }
  }

  void save(VmHandle handle) {
    Path file = dir.resolve(handle.vmId() + ".json");
    Path tmp = dir.resolve(handle.vmId() + ".json.tmp");
    try {
      JSON.writeValue(tmp.toFile(), handle);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.error("VM {}: cannot save its handle to {}: {} (a restarted agent would not find it)", handle.vmId(), file, e.getMessage());
    }
  }

  void delete(String vmId) {
    try {
      Files.deleteIfExists(dir.resolve(vmId + ".json"));
    } catch (IOException e) {
      log.warn("VM {}: cannot delete its handle: {}", vmId, e.getMessage());
    }
  }

  List<VmHandle> all() {
    List<VmHandle> handles = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".json"))::iterator) {
        try {
          handles.add(JSON.readValue(f.toFile(), VmHandle.class));
        } catch (IOException e) {
          log.error("skipping unreadable handle {}: {}", f, e.getMessage());
        }
      }
    } catch (IOException e) {
      log.error("cannot list handles in {}: {}", dir, e.getMessage());
    }
    return handles;
  }

  /**
   * Kills (SIGKILL) every QEMU named by a saved handle whose process is still the one the handle
   * names (its command line holds the handle's QMP socket), and deletes the handles: fencing that
   * needs no actor system and no driver. Returns how many were killed.
   */
  int killAll() {
    int killed = 0;
    for (VmHandle h : all()) {
      String qmp = h.attributes().get("qmp");
      var process = ProcessHandle.of(h.pid()).filter(ProcessHandle::isAlive).filter(p -> qmp != null && commandLine(p).contains(qmp));
      if (process.isPresent() && process.get().destroyForcibly()) killed++;
      delete(h.vmId());
    }
    return killed;
  }

  private static String commandLine(ProcessHandle p) {
    try {
      return Files.readString(Path.of("/proc", String.valueOf(p.pid()), "cmdline"));
    } catch (IOException e) {
      return "";
    }
  }
}
