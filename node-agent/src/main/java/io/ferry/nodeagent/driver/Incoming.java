package io.ferry.nodeagent.driver;

/**
 * A target VM waiting for a migration.
 *
 * @param handle the target VM
 * @param uri    where the source sends the migration stream, for example {@code tcp:10.0.0.2:49152}
 */
public record Incoming(VmHandle handle, String uri) {}
