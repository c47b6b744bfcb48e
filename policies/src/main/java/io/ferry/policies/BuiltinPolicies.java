package io.ferry.policies;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Ferry's built-in policies, written as policy scripts so that they are examples too:
 * {@code evacuate} (the default evacuation), {@code keep-pool} (keep N timeslots),
 * {@code suspend-when-idle}.
 */
public final class BuiltinPolicies {
  public static final List<String> NAMES = List.of("evacuate", "keep-pool", "suspend-when-idle");

  private BuiltinPolicies() {}

  /** The source of a built-in policy. */
  public static String source(String name) {
    if (!NAMES.contains(name)) throw new IllegalArgumentException("no built-in policy '" + name + "'; there are " + NAMES);
    try (InputStream in = BuiltinPolicies.class.getResourceAsStream("builtin/" + name + ".js")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("built-in policy " + name + " is missing from the policies jar", e);
    }
  }
}
