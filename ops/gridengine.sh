#!/usr/bin/env bash
# A real single-host Grid Engine (8.1.9, Debian) whose queue's slots stand for nodes, for Ferry's
# tests and demo. See --help; the set-up's pitfalls are in ../shared/notes/gridengine.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export SGE_ROOT=${SGE_ROOT:-/var/lib/gridengine} SGE_CELL=${SGE_CELL:-default}
GE_QUEUE=${GE_QUEUE:-ferry.q}
GE_NODES=${GE_NODES:-4}
GE_NODE_CPUS=${GE_NODE_CPUS:-2}
GE_NOTIFY=${GE_NOTIFY:-20}
GE_PE=${GE_PE:-ferry}
HOST=$(hostname)
SPOOL=/var/spool/gridengine
QMASTER_PID=$SPOOL/qmaster/qmaster.pid
# the execd spools under the name the host resolves to ("localhost" here, see host_aliases)
execd_pid() { ls "$SPOOL"/execd/*/execd.pid 2>/dev/null | head -1 || true; }
WORK=$FERRY_STATE/gridengine

usage() {
  cat <<USAGE
Usage: ops/gridengine.sh install|start|stop|status|--help

  install install gridengine-master, -exec and -client from Debian's packages (cell "default",
          master $HOST) if missing
  start   install if needed, start sge_qmaster and one sge_execd on this host, and configure
          them (idempotent): this host as submit and exec host, jobs of root allowed (min_uid 0:
          a test cluster), the scheduler every second, a parallel environment "$GE_PE" (a job's
          cores on one host) and a queue "$GE_QUEUE" with GE_NODES x GE_NODE_CPUS slots and a
          notify time of GE_NOTIFY s (the warning a -notify job gets before it is killed at h_rt);
          then wait until the queue takes jobs
  stop    delete every job and stop both daemons
  status  show the queue (exit 0 if the qmaster answers)

Settings (environment, defaults in brackets): GE_QUEUE [ferry.q], GE_NODES [4], GE_NODE_CPUS [2],
GE_NOTIFY (seconds) [20], GE_PE [ferry]. Clients need SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL
(Debian's /etc/profile.d sets them for login shells; Ferry's backend sets them itself).
USAGE
}

install() {
  local missing=()
  for p in gridengine-master gridengine-exec gridengine-client; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "${missing[*]} missing; install them as root (ops/gridengine.sh install)"
  debconf-set-selections <<SEL
gridengine-common shared/gridenginemaster string $HOST
gridengine-common shared/gridenginecell string $SGE_CELL
gridengine-common shared/gridengineconfig boolean true
SEL
  install_packages "${missing[@]}"
}

qmaster_up() { pid_alive "$QMASTER_PID" && qstat -f >/dev/null 2>&1; }

# qconf -A* / -M* read a file whose name matters for some objects (global: "global")
apply() { # apply KIND NAME FILE: add the object, or modify it if it exists
  local kind=$1 name=$2 file=$3
  if qconf "-s$kind" "$name" >/dev/null 2>&1; then qconf "-M$kind" "$file" >/dev/null 2>&1; else qconf "-A$kind" "$file" >/dev/null 2>&1; fi \
    || die "Grid Engine refused the $kind '$name' in $file: $(qconf "-A$kind" "$file" 2>&1 | tail -1)"
}

configure() {
  mkdir -p "$WORK"
  qconf -as "$HOST" >/dev/null 2>&1 || true
  qconf -ah "$HOST" >/dev/null 2>&1 || true
  # jobs of root are refused below uid 1000; this is a test cluster run as root
  mkdir -p "$WORK/conf" && qconf -sconf global | sed -e ':a' -e '/\\$/{N;s/\\\n[[:space:]]*/ /;ba}' > "$WORK/conf/global"
  sed -i -e 's/^min_uid .*/min_uid                      0/' -e 's/^min_gid .*/min_gid                      0/' "$WORK/conf/global"
  # kill a job's processes by the group id Grid Engine gives them too (Ferry's job script does not
  # rely on it: its watchdog ends the agent's session with the job)
  sed -i -e 's/^execd_params .*/execd_params                 ENABLE_ADDGRP_KILL=true/' "$WORK/conf/global"
  # a job's accounting (qacct: how it ended) written at its end, not up to 15 s later
  sed -i -e 's/^reporting_params .*/reporting_params             accounting=true reporting=false flush_time=00:00:15 joblog=false sharelog=00:00:00 accounting_flush_time=00:00:00/' "$WORK/conf/global"
  qconf -Mconf "$WORK/conf/global" >/dev/null 2>&1
  # the scheduler every second (default 15 s: a job would wait that long before it runs)
  qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval                 0:0:1/' \
    -e 's/^flush_submit_sec .*/flush_submit_sec                  1/' -e 's/^flush_finish_sec .*/flush_finish_sec                  1/' > "$WORK/sched"
  qconf -Msconf "$WORK/sched" >/dev/null 2>&1
  cat > "$WORK/exechost" <<EOF
hostname              $HOST
load_scaling          NONE
complex_values        NONE
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
EOF
  apply e "$HOST" "$WORK/exechost"
  cat > "$WORK/pe" <<EOF
pe_name            $GE_PE
slots              9999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    \$pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
EOF
  apply p "$GE_PE" "$WORK/pe"
  # the queue from Grid Engine's template; its pe_list names PEs that do not exist, and its
  # load_thresholds (np_load_avg=1.75) put the queue in alarm and held every job while this 2-core
  # machine's load was above 3.5 (a job waited 107 s during a test run): the slots stand for nodes,
  # so the host's load says nothing about them
  qconf -sq > "$WORK/queue.template" 2>/dev/null || qconf -sq all.q > "$WORK/queue.template" 2>/dev/null || true
  awk -v q="$GE_QUEUE" -v h="$HOST" -v s=$((GE_NODES * GE_NODE_CPUS)) -v pe="$GE_PE" -v n="$GE_NOTIFY" '
    $1 == "qname" { print "qname " q; next }
    $1 == "hostlist" { print "hostlist " h; next }
    $1 == "slots" { print "slots " s; next }
    $1 == "pe_list" { print "pe_list " pe; next }
    $1 == "notify" { printf "notify 00:00:%02d\n", n; next }
    $1 == "shell_start_mode" { print "shell_start_mode unix_behavior"; next }
    $1 == "load_thresholds" { print "load_thresholds NONE"; next }
    { print }' "$WORK/queue.template" > "$WORK/queue"
  grep -q '^qname' "$WORK/queue" || die "cannot read Grid Engine's queue template (qconf -sq)"
  apply q "$GE_QUEUE" "$WORK/queue"
}

start() {
  install
  # the host name must resolve to a name Grid Engine accepts as this host's (here it resolves
  # back to "localhost", and the qmaster refuses its own clients otherwise)
  grep -qs "^$HOST localhost\$" "$SGE_ROOT/$SGE_CELL/common/host_aliases" || echo "$HOST localhost" >> "$SGE_ROOT/$SGE_CELL/common/host_aliases"
  if ! qmaster_up; then
    /usr/sbin/sge_qmaster || die "sge_qmaster did not start; see $SPOOL/qmaster/messages"
    local deadline=$((SECONDS + 30))
    until qmaster_up; do
      [ $SECONDS -lt $deadline ] || die "sge_qmaster does not answer after 30 s: $(tail -3 $SPOOL/qmaster/messages 2>/dev/null)"
      sleep 0.3
    done
  fi
  configure
  # (re)start the execd: it keeps the limits (min_uid) it read when it started
  local pidfile; pidfile=$(execd_pid)
  if [ -n "$pidfile" ] && pid_alive "$pidfile"; then
    qconf -ke "$HOST" >/dev/null 2>&1 || true
    local deadline=$((SECONDS + 15))
    while pid_alive "$pidfile" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    pid_alive "$pidfile" && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  fi
  /usr/sbin/sge_execd || die "sge_execd did not start; see $SPOOL/execd/*/messages"
  qmod -c "$GE_QUEUE" >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 60)) state
  while true; do
    # the queue instance's state column is empty once the execd reports (else "au": unknown)
    state=$(qstat -f -q "$GE_QUEUE" 2>/dev/null | awk -v q="$GE_QUEUE@$HOST" '$1 == q { print ($6 == "" ? "ok" : $6) }')
    [ "$state" = ok ] && break
    [ $SECONDS -lt $deadline ] || die "queue $GE_QUEUE@$HOST is not ready after 60 s (state '${state:-none}'); see $SPOOL/execd/*/messages"
    [[ "$state" == *E* ]] && qmod -c "$GE_QUEUE" >/dev/null 2>&1 || true
    sleep 0.5
  done
  say "Grid Engine ready: queue $GE_QUEUE on $HOST with $((GE_NODES * GE_NODE_CPUS)) slots (pe $GE_PE), notify ${GE_NOTIFY} s"
  say "export SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL"
}

stop() {
  if qmaster_up; then
    qdel -f -u '*' >/dev/null 2>&1 || true
    local deadline=$((SECONDS + 15))
    while [ -n "$(qstat -u '*' 2>/dev/null)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.3; done
  fi
  local f
  for f in "$(execd_pid)" "$QMASTER_PID"; do
    [ -n "$f" ] && pid_alive "$f" || continue
    kill -TERM "$(cat "$f")" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while pid_alive "$f" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    pid_alive "$f" && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
  say "Grid Engine stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) qmaster_up && qstat -f -q "$GE_QUEUE" || { say "Grid Engine is not running"; exit 1; } ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
