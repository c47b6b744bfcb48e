package io.ferry.controlplane.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How failures of entity asks become problem JSON. */
class ProblemMappingTest {
  @TempDir Path dir;

  private HttpResponse map(Throwable e) {
    ApiSupport support = new ApiSupport(new Users(dir.resolve("users.json")), Duration.ofSeconds(5)) {};
    return support.problemFor(e);
  }

  private static String body(HttpResponse r) {
    return ((HttpEntity.Strict) r.entity()).getData().utf8String();
  }

  @Test
  void anAskTimeoutIsA503SayingWhatToDo() {
    HttpResponse r = map(new CompletionException(new AskTimeoutException("Ask timed out on [EntityRef(Vm, x)]")));
    assertEquals(503, r.status().intValue());
    assertTrue(body(r).contains("did not answer within 5 s; try again"), body(r));
    assertEquals(ApiSupport.PROBLEM, r.entity().getContentType());
  }

  @Test
  void anEntitysRejectionIsA409WithItsReason() {
    HttpResponse r = map(new CompletionException(new StatusReply.ErrorMessage("VM x is Stopped: MigrateVm needs it Running")));
    assertEquals(409, r.status().intValue());
    assertTrue(body(r).contains("MigrateVm needs it Running"), body(r));
  }

  @Test
  void anythingElseIsA500WithItsMessage() {
    HttpResponse r = map(new IllegalStateException("boom"));
    assertEquals(500, r.status().intValue());
    assertTrue(body(r).contains("boom"));
  }
}
