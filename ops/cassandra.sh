#!/usr/bin/env bash
# Starts and stops a real single-node Cassandra 5.0 on 127.0.0.1, as its own JVM, from Maven
# Central jars. See --help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CASSANDRA_VERSION=5.0.9
CASSANDRA_DIR=${CASSANDRA_DIR:-$FERRY_STATE/cassandra}
CASSANDRA_HOST=${CASSANDRA_HOST:-127.0.0.1}
CASSANDRA_CQL_PORT=${CASSANDRA_CQL_PORT:-9042}
CASSANDRA_STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-7000}
CASSANDRA_HEAP=${CASSANDRA_HEAP:-512M}
CASSANDRA_START_TIMEOUT=${CASSANDRA_START_TIMEOUT:-120}
PID_FILE=$CASSANDRA_DIR/cassandra.pid
LOG_DIR=$CASSANDRA_DIR/logs

usage() {
  cat <<USAGE
Usage: ops/cassandra.sh start|stop|status|install|--help

  install  fetch Cassandra $CASSANDRA_VERSION's jars from Maven Central (done by start if needed)
  start    start Cassandra and wait until CQL answers; an already running one is reused
  stop     stop it cleanly (SIGTERM, then SIGKILL after 30 s)
  status   say whether it runs and answers CQL (exit 0 if it does)

Settings (environment variables, defaults in brackets):
  CASSANDRA_DIR           jars, config, data and logs [\$FERRY_STATE/cassandra = $CASSANDRA_DIR]
  CASSANDRA_HOST          address it listens on [127.0.0.1]
  CASSANDRA_CQL_PORT      CQL (client) port [9042]
  CASSANDRA_STORAGE_PORT  inter-node port [7000]
  CASSANDRA_HEAP          JVM heap [512M]
  CASSANDRA_START_TIMEOUT seconds to wait for CQL [120]

Ferry finds it through FERRY_CASSANDRA=host:port (start prints the line to export).
USAGE
}

install() {
  if ls "$CASSANDRA_DIR/lib/cassandra-all-$CASSANDRA_VERSION.jar" >/dev/null 2>&1; then return 0; fi
  ensure_java_and_maven
  say "fetching Cassandra $CASSANDRA_VERSION jars from Maven Central into $CASSANDRA_DIR/lib"
  mkdir -p "$CASSANDRA_DIR/lib"
  mvn -B -q -f "$FERRY_ROOT/ops/cassandra/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$CASSANDRA_DIR/lib" \
    || die "could not fetch Cassandra's jars with Maven (is Maven Central reachable?)"
}

write_config() {
  mkdir -p "$CASSANDRA_DIR/conf" "$CASSANDRA_DIR/data" "$LOG_DIR"
  local d=$CASSANDRA_DIR/data
  cat > "$CASSANDRA_DIR/conf/cassandra.yaml" <<YAML
# Written by ops/cassandra.sh on every start: edit the script, not this file.
cluster_name: ferry
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
listen_address: $CASSANDRA_HOST
rpc_address: $CASSANDRA_HOST
storage_port: $CASSANDRA_STORAGE_PORT
native_transport_port: $CASSANDRA_CQL_PORT
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$CASSANDRA_HOST:$CASSANDRA_STORAGE_PORT"
data_file_directories: [$d/data]
commitlog_directory: $d/commitlog
saved_caches_directory: $d/saved_caches
hints_directory: $d/hints
cdc_raw_directory: $d/cdc_raw
# group: a write is acknowledged once its commit log group is on disk. periodic (fsync every 10 s)
# acknowledged writes that a kill -9 then lost: ops/chaos found an event's tag index row gone
# after CASSANDRA_KILL while the event itself was kept, and the journal must keep what it acked.
commitlog_sync: group
commitlog_sync_group_window: 10ms
commitlog_segment_size: 8MiB
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 0MiB
counter_cache_size: 0MiB
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 4
concurrent_compactors: 1
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
disk_failure_policy: stop
commit_failure_policy: stop
start_native_transport: true
YAML
  cat > "$CASSANDRA_DIR/conf/logback.xml" <<XML
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$LOG_DIR/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
}

jvm_flags() {
  local f=(-Xms$CASSANDRA_HEAP -Xmx$CASSANDRA_HEAP -Xss256k -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
    -Djava.net.preferIPv4Stack=true -Djdk.attach.allowAttachSelf=true
    -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    "-Dcassandra.config=file://$CASSANDRA_DIR/conf/cassandra.yaml"
    "-Dcassandra.storagedir=$CASSANDRA_DIR/data" "-Dcassandra.logdir=$LOG_DIR"
    "-Dlogback.configurationFile=$CASSANDRA_DIR/conf/logback.xml"
    -Dcassandra-foreground=yes)
  local m
  for m in java.base/jdk.internal.misc java.management.rmi/com.sun.jmx.remote.internal.rmi \
           java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql java.base/java.lang.ref \
           jdk.unsupported/sun.misc jdk.compiler/com.sun.tools.javac.file jdk.attach/sun.tools.attach; do
    f+=("--add-exports=$m=ALL-UNNAMED")
  done
  for m in java.lang.module jdk.internal.loader jdk.internal.ref jdk.internal.reflect jdk.internal.math \
           jdk.internal.module jdk.internal.util.jar sun.nio.ch java.io java.lang.reflect java.lang java.util; do
    f+=("--add-opens=java.base/$m=ALL-UNNAMED")
  done
  f+=(--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
      --add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED)
  printf '%s\n' "${f[@]}"
}

explain_failure() {
  warn "error: Cassandra did not answer CQL on $CASSANDRA_HOST:$CASSANDRA_CQL_PORT: $1"
  local why
  why=$(grep -hE 'ERROR|Exception' "$LOG_DIR/system.log" "$LOG_DIR/stdout.log" 2>/dev/null | grep -vE '^\s+at ' | tail -n 5 || true)
  if [ -n "$why" ]; then
    warn "--- why, from Cassandra's logs ---"
    warn "$why"
  fi
  warn "--- last lines of $LOG_DIR/system.log ---"
  tail -n 8 "$LOG_DIR/system.log" 2>/dev/null | grep -vE '^\s+at ' | cut -c1-200 >&2 || true
  warn "(full logs in $LOG_DIR; a port in use: set CASSANDRA_CQL_PORT / CASSANDRA_STORAGE_PORT)"
}

start() {
  if pid_alive "$PID_FILE" && cql_answers "$CASSANDRA_HOST" "$CASSANDRA_CQL_PORT"; then
    say "Cassandra already running (pid $(cat "$PID_FILE")), CQL on $CASSANDRA_HOST:$CASSANDRA_CQL_PORT"
    say "export FERRY_CASSANDRA=$CASSANDRA_HOST:$CASSANDRA_CQL_PORT"
    return 0
  fi
  if ! pid_alive "$PID_FILE" && cql_answers "$CASSANDRA_HOST" "$CASSANDRA_CQL_PORT"; then
    say "a CQL server not started by this script answers on $CASSANDRA_HOST:$CASSANDRA_CQL_PORT; using it"
    say "export FERRY_CASSANDRA=$CASSANDRA_HOST:$CASSANDRA_CQL_PORT"
    return 0
  fi
  if ! pid_alive "$PID_FILE"; then
    install
    write_config
    local flags
    mapfile -t flags < <(jvm_flags)
    local launcher=()
    # As root Cassandra mlocks its memory; dropping CAP_IPC_LOCK makes that fail harmlessly.
    if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
      launcher=(setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock)
    fi
    say "starting Cassandra $CASSANDRA_VERSION (data in $CASSANDRA_DIR/data, logs in $LOG_DIR)"
    : > "$LOG_DIR/system.log"
    (cd "$CASSANDRA_DIR" && exec nohup "${launcher[@]}" java "${flags[@]}" -cp "conf:lib/*" \
        org.apache.cassandra.service.CassandraDaemon > "$LOG_DIR/stdout.log" 2>&1 < /dev/null) &
    echo $! > "$PID_FILE"
  fi
  local deadline=$((SECONDS + CASSANDRA_START_TIMEOUT))
  while ! cql_answers "$CASSANDRA_HOST" "$CASSANDRA_CQL_PORT"; do
    if ! pid_alive "$PID_FILE"; then
      explain_failure "the Cassandra process exited during start"
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      explain_failure "no answer within ${CASSANDRA_START_TIMEOUT}s (still starting? raise CASSANDRA_START_TIMEOUT)"
      exit 1
    fi
    sleep 0.5
  done
  say "Cassandra ready (pid $(cat "$PID_FILE")), CQL on $CASSANDRA_HOST:$CASSANDRA_CQL_PORT"
  say "export FERRY_CASSANDRA=$CASSANDRA_HOST:$CASSANDRA_CQL_PORT"
}

stop() {
  if ! pid_alive "$PID_FILE"; then
    say "Cassandra is not running (no live pid in $PID_FILE)"
    rm -f "$PID_FILE"
    return 0
  fi
  local pid
  pid=$(cat "$PID_FILE")
  say "stopping Cassandra (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      warn "Cassandra did not stop within 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.3
  done
  rm -f "$PID_FILE"
  say "Cassandra stopped"
}

status() {
  if cql_answers "$CASSANDRA_HOST" "$CASSANDRA_CQL_PORT"; then
    say "Cassandra answers CQL on $CASSANDRA_HOST:$CASSANDRA_CQL_PORT$(pid_alive "$PID_FILE" && echo " (pid $(cat "$PID_FILE"))")"
    return 0
  fi
  say "Cassandra does not answer on $CASSANDRA_HOST:$CASSANDRA_CQL_PORT$(pid_alive "$PID_FILE" && echo " (pid $(cat "$PID_FILE") is still starting?)")"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  install) install ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
