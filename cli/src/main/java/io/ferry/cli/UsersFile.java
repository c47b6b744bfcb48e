package io.ferry.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The API's users file (named by the control members' {@code ferry.api.users-file}): a JSON list of
 * each user's name, the SHA-256 of their bearer token and whether they are an admin. Tokens
 * themselves are never stored. {@code ferry user add} writes it; the control members read it (and
 * read it again when it changes).
 */
public final class UsersFile {
  private UsersFile() {}

  /** One user as stored. */
  public record User(String name, String tokenSha256, boolean admin) {}

  /** The users in {@code file} (none if it does not exist). */
  public static List<User> read(Path file) throws IOException {
    if (!Files.exists(file)) return new ArrayList<>();
    return new ArrayList<>(Json.MAPPER.readValue(file.toFile(), new TypeReference<List<User>>() {}));
  }

  /**
   * Adds a user (or gives an existing one a new token) and returns the new token, which is shown
   * once and stored only as its hash. The file is replaced atomically.
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
    Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), users);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return token;
  }

  /** The hex SHA-256 of a token, as stored. */
  public static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
