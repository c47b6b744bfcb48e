package io.ferry.controlplane.entity;

import io.ferry.journal.Lifecycle;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * Builds an entity's command handlers stage by stage from its {@link Lifecycle}: a command that
 * leads to an event is accepted exactly in the stages that event may follow, so the lifecycle
 * table is the one place that says what is legal. Any other command is rejected by the stage, with
 * a reply naming the stage it is in and the stages the command needs.
 */
final class StageHandlers<C extends EntityCommand<S>, E, S> {
  private final CommandHandlerWithReplyBuilder<C, E, S> builder;
  private final EffectFactories<E, S> effects;
  private final Lifecycle<S, E> lifecycle;
  private final Function<S, String> name;
  private final Map<Class<?>, Set<Class<? extends S>>> stagesByCommand = new LinkedHashMap<>();
  private java.util.function.BiConsumer<S, S> afterPersist = (before, after) -> {};
  private final io.prometheus.metrics.core.datapoints.DistributionDataPoint writes;

  /**
   * @param name how a state names its entity in messages, for example {@code "VM vm-1"}
   * @param entityType the label of its journal writes' times ({@code ferry_journal_write_seconds})
   */
  StageHandlers(CommandHandlerWithReplyBuilder<C, E, S> builder, EffectFactories<E, S> effects,
      Lifecycle<S, E> lifecycle, Function<S, String> name, String entityType) {
    this.writes = io.ferry.nodeagent.metrics.Metrics.JOURNAL_WRITES.labelValues(entityType);
    this.builder = builder;
    this.effects = effects;
    this.lifecycle = lifecycle;
    this.name = name;
  }

  /** Runs after every persist, with the states before and after: where side effects start. */
  StageHandlers<C, E, S> afterPersist(java.util.function.BiConsumer<S, S> sideEffects) {
    this.afterPersist = sideEffects;
    return this;
  }

  /** {@code command} is accepted in every stage {@code event} may follow. */
  <X extends C> StageHandlers<C, E, S> on(Class<X> command, Class<? extends E> event,
      BiFunction<S, X, Decision<E>> decide) {
    return on(command, lifecycle.allowedFrom(event), decide);
  }

  /** {@code command} is accepted in exactly these stages. */
  @SuppressWarnings("unchecked")
  <X extends C> StageHandlers<C, E, S> on(Class<X> command, Set<Class<? extends S>> stages,
      BiFunction<S, X, Decision<E>> decide) {
    stagesByCommand.computeIfAbsent(command, c -> new LinkedHashSet<>()).addAll(stages);
    for (Class<? extends S> stage : stages) {
      builder.forStateType((Class<S>) stage).onCommand(command, (state, cmd) -> effect(state, cmd, decide.apply(state, cmd)));
    }
    return this;
  }

  /** {@code command} only reads: every stage answers it with the current state. */
  <X extends C> StageHandlers<C, E, S> readOnly(Class<X> command) {
    builder.forAnyState().onCommand(command, (state, cmd) -> effects.reply(cmd.replyTo(), StatusReply.success(state)));
    return this;
  }

  /** {@code command} changes nothing: every stage runs {@code sideEffect} and answers with the current state. */
  <X extends C> StageHandlers<C, E, S> sideEffect(Class<X> command, java.util.function.BiConsumer<S, X> sideEffect) {
    builder.forAnyState().onCommand(command, (state, cmd) -> effects.none().thenRun(s -> sideEffect.accept(s, cmd))
        .thenReply(cmd.replyTo(), StatusReply::success));
    return this;
  }

  CommandHandlerWithReply<C, E, S> build() {
    builder.forAnyState().onAnyCommand((state, cmd) -> effects.reply(cmd.replyTo(), StatusReply.error(rejection(state, cmd))));
    return builder.build();
  }

  private String rejection(S state, C cmd) {
    String command = cmd.getClass().getSimpleName();
    Set<Class<? extends S>> stages = stagesByCommand.get(cmd.getClass());
    if (stages == null || stages.isEmpty()) {
      return name.apply(state) + " does not accept " + command;
    }
    String stage = Lifecycle.stage(state);
    if (stages.size() == 1 && stages.iterator().next().getSimpleName().equals("Empty")) {
      return name.apply(state) + " already exists (it is " + stage + ")";
    }
    String where = stage.equals("Empty") ? " does not exist" : " is " + stage;
    return name.apply(state) + where + ": " + command + " needs it " + Lifecycle.stages(stages);
  }

  private ReplyEffect<E, S> effect(S state, C cmd, Decision<E> decision) {
    if (decision instanceof Decision.Persist<E> persist) {
      long decided = System.nanoTime();
      return effects.persist(persist.events()).thenRun(after -> {
            writes.observe((System.nanoTime() - decided) / 1e9);
            afterPersist.accept(state, after);
          })
          .thenReply(cmd.replyTo(), StatusReply::success);
    }
    if (decision instanceof Decision.Reject<E> reject) {
      return effects.reply(cmd.replyTo(), StatusReply.error(name.apply(state) + ": " + reject.reason()));
    }
    return effects.reply(cmd.replyTo(), StatusReply.success(state));
  }
}
