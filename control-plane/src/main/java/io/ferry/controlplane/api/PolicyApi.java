package io.ferry.controlplane.api;

import io.ferry.cli.UsersFile;
import io.ferry.controlplane.Entities;
import io.ferry.controlplane.entity.Policy;
import io.ferry.journal.policy.PolicyState;
import io.ferry.policies.PolicyEngine;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /v1/policies}: a user's policy scripts, stored and versioned by the Policy entity.
 * {@code PUT /v1/policies/NAME} checks the script in the sandbox first (a syntax error is a 400
 * naming the line and column) and records it as the next version; {@code GET} lists or shows
 * (with the source); {@code DELETE} deletes (the versions stay in the journal). Admins see every
 * policy and may apply site-wide ones ({@code "scope": "site"}); {@code ?owner=} names another
 * user's policy for them.
 */
final class PolicyApi extends ApiSupport {
  /** The body of {@code PUT /v1/policies/NAME}. */
  record ApplyPolicy(String source, String scope) {}

  /** A policy as the API shows it. */
  record PolicyView(String id, String owner, String name, int version, String scope, String stage, String source) {}

  private static final String NAME = "[a-z0-9][a-z0-9-]{0,62}";

  private final Entities entities;
  private final Catalog catalog;
  private final PolicyEngine engine;

  PolicyApi(Users users, Entities entities, Catalog catalog, Duration askTimeout, PolicyEngine engine) {
    super(users, askTimeout);
    this.entities = entities;
    this.catalog = catalog;
    this.engine = engine;
  }

  static PolicyView view(PolicyState s, boolean withSource) {
    var f = s.facts();
    return new PolicyView(f.policyId(), f.owner(), f.name(), f.version(), f.scope(), s.stage(), withSource ? f.source() : null);
  }

  Route route(UsersFile.User user) {
    return pathPrefix("policies", () -> concat(
        pathEnd(() -> get(() -> complete(json(200, catalog.policies(user.admin() ? null : user.name()).stream()
            .filter(s -> s instanceof PolicyState.Active).map(s -> view(s, false))
            .sorted(Comparator.comparing(PolicyView::id)).collect(Collectors.toList()))))),
        path(PathMatchers.segment(), name -> parameterOptional("owner", owner -> {
          String who = owner.filter(o -> user.admin()).orElse(user.name());
          String id = Policy.id(who, name);
          return concat(
              get(() -> respond(existing(id).thenApply(s -> json(200, view(s, true))))),
              put(() -> body(ApplyPolicy.class, body -> respond(safely(() -> apply(user, who, name, body))))),
              delete(() -> respond(existing(id).thenCompose(s -> entities.policy(id, r -> new Policy.DeletePolicy(user.name(), r)))
                  .thenApply(s -> json(200, view(s, false))))));
        }))));
  }

  private CompletionStage<org.apache.pekko.http.javadsl.model.HttpResponse> apply(UsersFile.User user, String owner, String name,
      ApplyPolicy body) {
    if (!name.matches(NAME)) throw ApiError.badRequest("policy name '" + name + "' must be lower-case letters, digits and '-'");
    if (body.source() == null || body.source().isBlank()) throw ApiError.badRequest("a policy needs its 'source' (JavaScript)");
    String scope = body.scope() == null ? "user" : body.scope();
    if (!scope.equals("user") && !scope.equals("site")) throw ApiError.badRequest("scope is 'user' or 'site', not '" + scope + "'");
    if (scope.equals("site") && !user.admin()) throw ApiError.forbidden("only admins apply site-wide policies");
    try {
      engine.check(name + ".js", body.source());
    } catch (PolicyEngine.ScriptError e) {
      throw ApiError.badRequest("the policy was not applied: " + e.getMessage());
    }
    String id = Policy.id(owner, name);
    return entities.policy(id, r -> new Policy.ApplyPolicy(owner, name, body.source(), scope, user.name(), r))
        .thenApply(s -> json(200, view(s, false)));
  }

  private CompletionStage<PolicyState> existing(String id) {
    return entities.policy(id, Policy.GetPolicy::new).thenApply(s -> {
      if (!(s instanceof PolicyState.Active)) throw ApiError.notFound("policy " + id + " not found");
      return s;
    });
  }
}
