package io.ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * A list command, and with {@code --watch} its rows again as they change (as {@code kubectl get
 * -w} does): the list first, then the event stream of that entity type; an event of the last
 * moments makes it fetch that entity and print its row if the row is not the one last printed
 * (a deleted one prints with stage {@code Deleted}). Events from before the list (the stream starts
 * at the journal's beginning) only establish that nothing needs printing.
 */
final class ListWatch {
  /** How far before the list's time an event still counts as news (clock skew between CLI and server). */
  static final java.time.Duration SKEW = java.time.Duration.ofSeconds(5);

  private ListWatch() {}

  static int list(FerryCli root, String listPath, String entityType, String itemPath, boolean watch, String... columns) {
    ApiClient api = root.api();
    Instant listedAt = Instant.now();
    JsonNode list = api.get(listPath);
    if (!watch) {
      Output.print(System.out, root.output, list, columns);
      return 0;
    }
    Output.Rows rows = new Output.Rows(root.output, columns);
    java.util.List<JsonNode> items = new java.util.ArrayList<>();
    list.forEach(items::add);
    rows.widen(items);
    Map<String, String> printed = new HashMap<>();
    for (JsonNode item : list) printed.put(item.path("id").asText(), rows.print(item));
    if (list.isEmpty()) rows.header();
    System.out.flush();
    Instant news = listedAt.minus(SKEW);
    api.stream("GET", "/v1/events?format=ndjson&type=" + entityType, null, event -> {
      if (!entityType.equals(event.path("entityType").asText())) return true;
      Instant at = parse(event.path("time").asText());
      if (at != null && at.isBefore(news)) return true;
      String id = event.path("entityId").asText();
      JsonNode item;
      try {
        item = api.get(itemPath + FerryCli.enc(id));
      } catch (CliFailure f) {
        if (f.exitCode != CliFailure.NOT_FOUND) throw f;
        if (!printed.containsKey(id)) return true;
        ObjectNode gone = Json.MAPPER.createObjectNode().put("id", id).put("stage", "Deleted");
        item = gone;
      }
      String row = rows.format(item);
      if (!row.equals(printed.get(id))) {
        printed.put(id, rows.print(item));
        System.out.flush();
      }
      return true;
    });
    return 0;
  }

  private static Instant parse(String time) {
    try {
      return Instant.parse(time);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
