package io.ferry.controlplane.api;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API's users: a JSON file (named by {@code ferry.api.users-file}) listing each user's name,
 * the SHA-256 of their bearer token and whether they are an admin. Tokens themselves are never
 * stored. The file is read again when it changes, so users can be added while Ferry runs
 * ({@code bin/ferry user add}).
 */
public final class Users {
  /** One user as stored. */
  public record User(String name, String tokenSha256, boolean admin) {}

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
    String hash = sha256(token);
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
      users = read(file);
      loaded = modified;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the users file " + file + ": " + e.getMessage(), e);
    }
  }

  static List<User> read(Path file) throws IOException {
    if (!Files.exists(file)) return new ArrayList<>();
    return new ArrayList<>(ApiJson.MAPPER.readValue(file.toFile(), new TypeReference<List<User>>() {}));
  }

  /**
   * Adds a user (or gives an existing one a new token) and returns the new token, which is shown
   * once and stored only as its hash.
   */
  public static String addUser(Path file, String name, boolean admin) throws IOException {
    if (!name.matches("[a-z][a-z0-9_-]{0,31}")) {
      throw new IllegalArgumentException("user name '" + name + "' is not valid: lower-case letters, digits, '_', '-', starting with a letter");
    }
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String token = "fy_" + HexFormat.of().formatHex(random);
    List<User> users = read(file);
    users.removeIf(u -> u.name().equals(name));
    users.add(new User(name, sha256(token), admin));
    if (file.getParent() != null) Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    ApiJson.MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), users);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return token;
  }

  public static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
