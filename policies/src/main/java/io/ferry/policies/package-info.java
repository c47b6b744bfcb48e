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
 *
 * <p>The audit trail's "policy v3, line 12" cannot be forged by the script: the prelude
 * ({@code prelude.js}) keeps its state in a closure and hands its dispatcher to the host, never
 * to a global; {@code on} and {@code ferry} cannot be redefined; every built-in reachable from the
 * global object is frozen before the script runs (so {@code Array.prototype.push},
 * {@code Object.prototype.toJSON} or {@code Error.prepareStackTrace} cannot be poisoned; a script
 * that assigns to a built-in's prototype finds it unchanged); the line of a {@code ferry.*} call
 * is taken from the call's own stack, in the script's own source, and an action a handler returns
 * is recorded at the line where that handler was registered; code from strings ({@code eval},
 * {@code new Function}) is refused, since it could name itself after the script. Freezing costs
 * about 4 ms per invocation (2.8 → 6.6 ms for a one-line handler on this machine, measured in
 * session 11).
 */
package io.ferry.policies;
