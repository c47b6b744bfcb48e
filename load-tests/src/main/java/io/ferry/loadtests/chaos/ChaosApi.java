package io.ferry.loadtests.chaos;

import io.ferry.loadtests.BenchSupport;
import io.ferry.loadtests.BenchSupport.Api.Answer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Ferry's HTTP API as a user of a 3-member control plane sees it: a request goes to the first
 * member that answers; one that refuses the connection or answers 503 (busy, journal down) is
 * passed over, and the round is tried again until {@code patience} has passed.
 */
final class ChaosApi {
  private final List<BenchSupport.Api> members = new ArrayList<>();
  private final Duration patience;

  ChaosApi(Members m, Duration patience) {
    for (int i = 0; i < m.count(); i++) members.add(new BenchSupport.Api(m.api(i), Duration.ZERO, Duration.ofSeconds(20)));
    this.patience = patience;
  }

  Answer get(String path, String token) {
    return any(a -> a.get(path, token), "GET " + path);
  }

  Answer post(String path, String token, Object body) {
    return any(a -> a.post(path, token, body), "POST " + path);
  }

  Answer delete(String path, String token) {
    return any(a -> a.delete(path, token), "DELETE " + path);
  }

  /** The answer of the first member that gives one other than 503, or null if none did in time. */
  Answer tryOnce(Function<BenchSupport.Api, Answer> request) {
    Answer last = null;
    for (BenchSupport.Api a : members) {
      try {
        Answer answer = request.apply(a);
        if (answer.status() != 503) return answer;
        last = answer;
      } catch (IllegalStateException e) {
        // this member is down: the next one
      }
    }
    return last != null && last.status() != 503 ? last : null;
  }

  private Answer any(Function<BenchSupport.Api, Answer> request, String what) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      Answer a = tryOnce(request);
      if (a != null) return a;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(what + ": no control member answered (other than 503) within " + patience.toSeconds() + " s");
      }
      BenchSupport.sleep(Duration.ofMillis(500));
    }
  }
}
