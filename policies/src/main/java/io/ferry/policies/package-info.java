/**
 * Policy scripts: the engine and its sandbox ({@link io.ferry.policies.PolicyEngine}: GraalJS
 * 23.1, the last line that runs on Java 17; no host access, I/O, threads or processes; a statement
 * limit, a wall-clock limit and an allocation budget per invocation), the narrow port of actions
 * ({@link io.ferry.policies.PolicyAction}), the read-only view scripts decide on
 * ({@link io.ferry.policies.PolicyView}), the evacuation's deadline rules applied to what a
 * script asks ({@link io.ferry.policies.DeadlineRules}) and the built-in policies written as
 * scripts ({@link io.ferry.policies.BuiltinPolicies}). Depends only on the journal's pure types.
 *
 * <p>A script registers handlers with {@code on(type, function (event, view) {...})} and answers
 * through {@code ferry.migrate(vm, timeslot)}, {@code ferry.suspend(vm)}, {@code ferry.resume(vm,
 * timeslot)}, {@code ferry.stop(vm)}, {@code ferry.requestTimeslot({cores, memoryMiB,
 * walltimeSeconds, partition})}, {@code ferry.release(timeslot)} and {@code ferry.log(...)} (or by
 * returning an array of actions). Every invocation runs in a fresh context: scripts keep no state.
 */
package io.ferry.policies;
