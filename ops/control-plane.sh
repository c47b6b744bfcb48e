#!/usr/bin/env bash
# Starts a local control plane: Cassandra plus one control member in the background. See --help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PORT=25520
SEEDS=()
API=()
usage() {
  cat <<USAGE
Usage: ops/control-plane.sh start|stop|status [--port PORT] [--seed HOST:PORT]... [--api-port P]

  start   start Cassandra (ops/cassandra.sh) if it is not running, then a control member on
          127.0.0.1:PORT in the background; waits until the member is up. Idempotent.
  stop    stop the control member on PORT (Cassandra keeps running: ops/cassandra.sh stop)
  status  say whether the member on PORT runs

  --port PORT       the member's cluster port [25520]
  --seed HOST:PORT  join the cluster of that member instead of founding one; repeatable.
                    A second member: ops/control-plane.sh start --port 25521 --seed 127.0.0.1:25520
  --api-port P      its HTTP API port [8080; a member started with --seed: any free port]

Logs: \$FERRY_STATE/control-PORT.log (FERRY_STATE=$FERRY_STATE)
USAGE
}

cmd=${1:-}; [ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --seed) SEEDS+=(--seed "$2"); shift 2 ;;
    --api-port) API=(--api-port "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
PID_FILE=$FERRY_STATE/control-$PORT.pid
LOG=$FERRY_STATE/control-$PORT.log

start() {
  mkdir -p "$FERRY_STATE"
  "$FERRY_ROOT/ops/cassandra.sh" start
  if pid_alive "$PID_FILE"; then
    say "control member already running on port $PORT (pid $(cat "$PID_FILE"))"
    return 0
  fi
  "$FERRY_ROOT/ops/build.sh"
  say "starting a control member on 127.0.0.1:$PORT (log: $LOG)"
  if [ ${#SEEDS[@]} -gt 0 ] && [ ${#API[@]} -eq 0 ]; then API=(--api-port 0); fi   # a second member: any free API port
  nohup "$FERRY_ROOT/bin/ferry-control" --port "$PORT" "${SEEDS[@]}" "${API[@]}" > "$LOG" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  local deadline=$((SECONDS + 90))
  until grep -q "ferry-control up" "$LOG" 2>/dev/null; do
    if ! pid_alive "$PID_FILE"; then
      warn "error: the control member exited during start; the end of its log:"
      tail -n 20 "$LOG" | grep -vE '^\s+at ' >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    [ $SECONDS -lt $deadline ] || die "the control member did not come up within 90 s; see $LOG"
    sleep 0.3
  done
  grep "ferry-control up" "$LOG"
}

stop() {
  if ! pid_alive "$PID_FILE"; then
    say "no control member runs on port $PORT"
    rm -f "$PID_FILE"
    return 0
  fi
  local pid; pid=$(cat "$PID_FILE")
  say "stopping the control member on port $PORT (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || { kill -KILL "$pid" 2>/dev/null || true; break; }
    sleep 0.2
  done
  rm -f "$PID_FILE"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) if pid_alive "$PID_FILE"; then say "control member on port $PORT runs (pid $(cat "$PID_FILE"))"; else say "no control member on port $PORT"; exit 1; fi ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
