#!/usr/bin/env bash
# A real single-host Slurm (22.05, Debian) with several node daemons, for Ferry's tests and demo.
# See --help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SLURM_DIR=${SLURM_DIR:-$FERRY_STATE/slurm}
SLURM_NODES=${SLURM_NODES:-4}
SLURM_NODE_CPUS=${SLURM_NODE_CPUS:-2}
SLURM_NODE_MEMORY=${SLURM_NODE_MEMORY:-2000}
SLURM_PARTITION=${SLURM_PARTITION:-ferry}
CONF=$SLURM_DIR/slurm.conf

usage() {
  cat <<USAGE
Usage: ops/slurm.sh start|stop|status|--help

  start   install (slurmctld, slurmd, slurm-client, munge from Debian's packages) if needed, write
          \$SLURM_DIR/slurm.conf, start munged, slurmctld and one slurmd per node (n1..nN, all on
          127.0.0.1), and wait until every node is idle. Idempotent.
  stop    cancel every job and stop the daemons (munged keeps running)
  status  show the nodes (exit 0 if slurmctld answers)

Settings (environment, defaults in brackets): SLURM_DIR [\$FERRY_STATE/slurm = $SLURM_DIR],
SLURM_NODES [4], SLURM_NODE_CPUS [2], SLURM_NODE_MEMORY (MiB) [2000], SLURM_PARTITION [ferry].
Clients find the cluster through SLURM_CONF, which start prints:  export SLURM_CONF=$CONF
USAGE
}

install() {
  local missing=()
  for p in slurmctld slurmd slurm-client munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  install_packages "${missing[@]}"
}

write_conf() {
  mkdir -p "$SLURM_DIR"/{state,spool,log}
  cat > "$CONF" <<CONFEOF
# Written by ops/slurm.sh on every start: edit the script, not this file.
ClusterName=ferry
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=6817
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=1
KillWait=10
OverTimeLimit=0
SlurmdParameters=config_overrides
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool/%n
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd-%n.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd-%n.log
NodeName=n[1-$SLURM_NODES] NodeHostname=localhost NodeAddr=127.0.0.1 Port=[17001-$((17000 + SLURM_NODES))] CPUs=$SLURM_NODE_CPUS RealMemory=$SLURM_NODE_MEMORY
PartitionName=$SLURM_PARTITION Nodes=n[1-$SLURM_NODES] Default=YES MaxTime=INFINITE State=UP OverSubscribe=EXCLUSIVE
CONFEOF
}

munge_up() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start() {
  install
  export SLURM_CONF=$CONF
  if pid_alive "$SLURM_DIR/slurmctld.pid" && scontrol ping 2>/dev/null | grep -q UP; then
    say "Slurm already running ($(sinfo -h -o '%D nodes %T' | tr '\n' ' '))"
    say "export SLURM_CONF=$CONF"
    return 0
  fi
  write_conf
  if ! munge_up; then
    [ -f /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || true
    mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
    runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
    local deadline=$((SECONDS + 10))
    until munge_up; do [ $SECONDS -lt $deadline ] || die "munge does not answer (munge -n | unmunge)"; sleep 0.2; done
  fi
  # -c: start from a clean state (this is a test and demo cluster; old jobs are not carried over)
  slurmctld -c -f "$CONF" || die "slurmctld did not start; see $SLURM_DIR/log/slurmctld.log: $(tail -3 "$SLURM_DIR/log/slurmctld.log" 2>/dev/null)"
  for i in $(seq 1 "$SLURM_NODES"); do
    slurmd -f "$CONF" -N "n$i" || die "slurmd -N n$i did not start; see $SLURM_DIR/log/slurmd-n$i.log"
  done
  local deadline=$((SECONDS + 60))
  until [ "$(sinfo -h -o '%T' 2>/dev/null | sort -u)" = "idle" ]; do
    [ $SECONDS -lt $deadline ] || die "Slurm's nodes are not idle after 60 s: $(sinfo -h 2>&1 | head -3); see $SLURM_DIR/log"
    sleep 0.3
  done
  say "Slurm ready: $SLURM_NODES nodes (n1..n$SLURM_NODES) in partition $SLURM_PARTITION"
  say "export SLURM_CONF=$CONF"
}

stop() {
  export SLURM_CONF=$CONF
  scancel --full --quiet --partition "$SLURM_PARTITION" 2>/dev/null || true
  local f
  for f in "$SLURM_DIR"/slurmd-*.pid "$SLURM_DIR/slurmctld.pid"; do
    [ -f "$f" ] || continue
    if pid_alive "$f"; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
  done
  local deadline=$((SECONDS + 15))
  for f in "$SLURM_DIR"/slurmd-*.pid "$SLURM_DIR/slurmctld.pid"; do
    [ -f "$f" ] || continue
    while pid_alive "$f" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    pid_alive "$f" && kill -KILL "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  say "Slurm stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) export SLURM_CONF=$CONF; scontrol ping 2>/dev/null | grep -q UP && sinfo || { say "Slurm is not running"; exit 1; } ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
