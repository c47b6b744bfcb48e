package io.ferry.nodeagent.driver;

/**
 * How a VM's hypervisor process ended.
 *
 * @param deliberate  whether the driver itself ended it (a stop, or the end of a suspend or of a
 *     migration away); an exit that is not deliberate is news: a crash, a kill, a guest power-off
 * @param description what ended it and the hypervisor's last words, for people
 */
public record VmExit(boolean deliberate, String description) {}
