package io.ferry.cli;

import java.io.OutputStream;
import java.io.PrintStream;

/**
 * What bin/ferry runs once, under {@code -XX:ArchiveClassesAtExit}, to make the CLI's class-data
 * archive: the commands' help and a list call (against a port nothing listens on) load the classes
 * that a real call loads, and the archive lets every later call map them instead of loading them.
 * Prints nothing.
 */
public final class CdsTrainingRun {
  private CdsTrainingRun() {}

  public static void main(String[] args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    PrintStream none = new PrintStream(OutputStream.nullOutputStream());
    System.setOut(none);
    System.setErr(none);
    try {
      FerryCli.run("--help");
      FerryCli.run("--server", "http://127.0.0.1:1", "vm", "list");
      FerryCli.run("--server", "http://127.0.0.1:1", "-o", "json", "slot", "list");
      FerryCli.run("--server", "http://127.0.0.1:1", "events");
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
