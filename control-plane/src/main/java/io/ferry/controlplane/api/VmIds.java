package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
/**
 * VM ids are per user: a VM's id is {@code <owner>.<name>}, the name given at create (or made up
 * by Ferry), so two users may both have a VM named {@code web} and neither can learn of the
 * other's by choosing its name (finding 7 of "a core that never lies": a conflict answered with
 * another user's VM's stage). In paths and filters a bare name means the caller's own VM.
 */
public final class VmIds {
  /** What a VM's name may be: it ends up in file names and QEMU's command line. */
  static final String NAME = "[a-z0-9][a-z0-9-]{0,62}";

  private VmIds() {}

  /** The id of {@code owner}'s VM called {@code name}. */
  public static String of(String owner, String name) {
    return owner + "." + name;
  }

  /** The id a request means: {@code owner.name} as given, or a bare name of the caller's own. */
  static String qualified(UsersFile.User user, String idOrName) {
    return idOrName.indexOf('.') >= 0 ? idOrName : of(user.name(), idOrName);
  }
}
