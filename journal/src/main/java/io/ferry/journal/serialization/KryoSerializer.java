package io.ferry.journal.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import io.ferry.journal.FerrySerializable;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * The Pekko serializer for every {@link FerrySerializable}: Kryo 5 with explicit registration ids
 * (see {@link KryoRegistrations}). The class id is part of the bytes, so no manifest is stored.
 */
public final class KryoSerializer extends JSerializer {
  /** Stored in the journal with every event: never change it. */
  public static final int IDENTIFIER = 0x46455259; // "FERY"

  private final Pool<Kryo> pool;

  public KryoSerializer(ExtendedActorSystem system) {
    FerryKryo factory = new FerryKryo(ActorRefResolver.get(Adapter.toTyped(system)));
    this.pool = new Pool<>(true, false, 64) {
      @Override
      protected Kryo create() {
        return factory.newKryo();
      }
    };
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    Kryo kryo = pool.obtain();
    try (Output output = new Output(256, -1)) {
      kryo.writeClassAndObject(output, o);
      return output.toBytes();
    } catch (KryoException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot serialize " + o.getClass().getName() + ": " + e.getMessage(), e);
    } finally {
      pool.free(kryo);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Kryo kryo = pool.obtain();
    try (Input input = new Input(bytes)) {
      return kryo.readClassAndObject(input);
    } catch (KryoException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot deserialize " + bytes.length + " bytes with Ferry's Kryo serializer: " + e.getMessage(), e);
    } finally {
      pool.free(kryo);
    }
  }
}
