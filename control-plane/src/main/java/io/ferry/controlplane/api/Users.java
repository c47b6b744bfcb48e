package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
import io.ferry.cli.UsersFile.User;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * The API's users, from the users file named by {@code ferry.api.users-file} (its format is
 * {@link UsersFile}'s, which {@code bin/ferry user add} writes). The file is read again when it
 * changes, so users can be added while Ferry runs.
 */
public final class Users {
  private final Path file;
  private volatile List<User> users = List.of();
  private volatile FileTime loaded;

  public Users(Path file) {
    this.file = file;
    reloadIfChanged();
  }

  /** The user whose token this is. */
  public Optional<User> authenticate(String token) {
    reloadIfChanged();
    String hash = UsersFile.sha256(token);
    return users.stream().filter(u -> MessageDigest.isEqual(u.tokenSha256().getBytes(StandardCharsets.US_ASCII),
        hash.getBytes(StandardCharsets.US_ASCII))).findFirst();
  }

  private synchronized void reloadIfChanged() {
    try {
      if (!Files.exists(file)) {
        users = List.of();
        return;
      }
      FileTime modified = Files.getLastModifiedTime(file);
      if (modified.equals(loaded)) return;
      users = UsersFile.read(file);
      loaded = modified;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the users file " + file + ": " + e.getMessage(), e);
    }
  }
}
