package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Golden bytes: Kryo encodings of persisted types committed under
 * {@code src/test/resources/golden/}, so that a change that would make old journal entries
 * unreadable fails a test. Run {@link #main} once when a persisted class is new, and commit the
 * file it writes; never rewrite an existing file.
 */
public final class GoldenBytes {
  static final String DIR = "golden/";

  private GoldenBytes() {}

  static byte[] encode(Kryo kryo, Object value) {
    try (Output out = new Output(256, -1)) {
      kryo.writeClassAndObject(out, value);
      return out.toBytes();
    }
  }

  static Object decode(Kryo kryo, byte[] bytes) {
    try (Input in = new Input(bytes)) {
      return kryo.readClassAndObject(in);
    }
  }

  /**
   * The names of the fields a record's bytes hold (the layout of {@link EvolvableRecordSerializer}):
   * the fields of the shape that wrote them.
   */
  static java.util.Set<String> storedFields(Kryo kryo, byte[] bytes) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    try (Input in = new Input(bytes)) {
      kryo.readClass(in);
      int count = in.readVarInt(true);
      for (int i = 0; i < count; i++) {
        names.add(in.readString());
        in.skip(in.readInt());
      }
    }
    return names;
  }

  /** The committed bytes of {@code type}, or {@code null} if there are none yet. */
  static byte[] read(Class<?> type) throws IOException {
    try (InputStream in = GoldenBytes.class.getClassLoader().getResourceAsStream(DIR + type.getName() + ".b64")) {
      if (in == null) return null;
      return Base64.getMimeDecoder().decode(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
    }
  }

  /** Writes golden bytes for every journal type that has none: {@code main <resources dir>}. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0], DIR);
    Files.createDirectories(dir);
    Kryo kryo = new FerryKryo(null).newKryo();
    Samples samples = new Samples(null);
    for (Class<?> type : SerializationContract.markerClasses("io.ferry.journal")) {
      Path file = dir.resolve(type.getName() + ".b64");
      if (Files.exists(file)) continue;
      String text = Base64.getMimeEncoder().encodeToString(encode(kryo, samples.of(type)));
      Files.writeString(file, text + "\n");
      System.out.println("wrote " + file);
    }
  }
}
