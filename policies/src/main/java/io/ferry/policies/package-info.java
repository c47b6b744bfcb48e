/**
 * Policy engine (to come, see the policy-scripts issue): sandboxed user scripts that react to
 * timeslot expiry and other events and answer with actions through a narrow port. Depends only on
 * the journal's pure types, so the control plane and replay can run policies the same way.
 */
package io.ferry.policies;
