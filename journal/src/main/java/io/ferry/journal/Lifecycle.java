package io.ferry.journal;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

/**
 * The pure fold of an entity: for each event type, the lifecycle stages (state types) it may
 * follow and the state it leads to. The live entity, audit replay and policies all fold events
 * with the same table, and the entity builds its command handlers per stage from it, so a command
 * that makes no sense in a stage is rejected there with the stages it needs.
 *
 * @param <S> the entity's state type; each lifecycle stage is its own record
 * @param <E> the entity's event type
 */
public final class Lifecycle<S, E> {
  private final String entityType;
  private final Map<Class<?>, Rule<S, E>> rules;

  private record Rule<S, E>(Set<Class<? extends S>> from, BiFunction<S, E, S> next) {}

  private Lifecycle(String entityType, Map<Class<?>, Rule<S, E>> rules) {
    this.entityType = entityType;
    this.rules = Map.copyOf(rules);
  }

  public static <S, E> Builder<S, E> builder(String entityType) {
    return new Builder<>(entityType);
  }

  /**
   * Folds one event into a state.
   *
   * @throws IllegalTransitionException if the event may not follow the state's stage; the live
   *     entity never persists such an event, so on replay it means the journal was tampered with
   */
  public S apply(S state, E event) {
    Rule<S, E> rule = rules.get(event.getClass());
    if (rule == null) {
      throw new IllegalTransitionException(entityType + " has no rule for event " + event.getClass().getSimpleName());
    }
    if (!rule.from.contains(state.getClass())) {
      throw new IllegalTransitionException(entityType + " event " + event.getClass().getSimpleName()
          + " cannot follow stage " + stage(state) + " (only " + stages(rule.from) + ")");
    }
    return rule.next.apply(state, event);
  }

  /** The stages an event of this type may follow. */
  public Set<Class<? extends S>> allowedFrom(Class<? extends E> eventType) {
    Rule<S, E> rule = rules.get(eventType);
    if (rule == null) throw new IllegalArgumentException("no rule for " + eventType.getName());
    return rule.from;
  }

  /** Whether an event of this type may follow the given state. */
  public boolean allows(S state, Class<? extends E> eventType) {
    return allowedFrom(eventType).contains(state.getClass());
  }

  /** The name of a state's stage, as people read it: its record's simple name. */
  public static String stage(Object state) {
    return state.getClass().getSimpleName();
  }

  /** Stage names, sorted, as "A, B or C". */
  public static String stages(Set<? extends Class<?>> types) {
    String[] names = types.stream().map(Class::getSimpleName).sorted().toArray(String[]::new);
    if (names.length == 1) return names[0];
    return String.join(", ", Arrays.copyOf(names, names.length - 1)) + " or " + names[names.length - 1];
  }

  public static final class Builder<S, E> {
    private final String entityType;
    private final Map<Class<?>, Rule<S, E>> rules = new LinkedHashMap<>();

    private Builder(String entityType) {
      this.entityType = entityType;
    }

    /** {@code event} may follow any of {@code from}, and leads to what {@code next} returns. */
    @SafeVarargs
    @SuppressWarnings("unchecked")
    public final <X extends E> Builder<S, E> on(
        Class<X> event, BiFunction<S, X, S> next, Class<? extends S>... from) {
      if (rules.containsKey(event)) throw new IllegalStateException("two rules for " + event.getName());
      Set<Class<? extends S>> sources = Arrays.stream(from).collect(Collectors.toUnmodifiableSet());
      rules.put(event, new Rule<>(sources, (BiFunction<S, E, S>) next));
      return this;
    }

    public Lifecycle<S, E> build() {
      return new Lifecycle<>(entityType, rules);
    }
  }
}
