#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for tests: munge + slurmctld + slurmd.
#
#   scripts/slurm-cluster.sh start    write slurm.conf for this host, start the daemons,
#                                     wait until `sinfo` shows the node idle
#   scripts/slurm-cluster.sh stop     stop the daemons
#   scripts/slurm-cluster.sh status   exit 0 when the node is up
#
# Needs root and Debian's slurm-wlm + munge. Writes /etc/slurm/slurm.conf (the path the
# Slurm commands read by default); state and logs go to /var/spool/slurm-smartsim.
set -euo pipefail

STATE=/var/spool/slurm-smartsim
CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)

log() { echo "slurm-cluster: $*" >&2; }

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n1 | tr -d '*~#'; }

write_conf() {
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/MemTotal/ {print int($2/1024) - 1024}' /proc/meminfo)
  mkdir -p /etc/slurm "$STATE"/ctld "$STATE"/d
  cat > "$CONF" <<CONF
# Written by scripts/slurm-cluster.sh: a one-node cluster for SmartSim's tests.
ClusterName=smartsim-test
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# No slurmdbd here, so no sacct accounting; `sacct -c` reads this completion log.
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
}

start_munge() {
  if pgrep -x munged >/dev/null; then return; fi
  if [ ! -s /etc/munge/munge.key ]; then
    (command -v mungekey >/dev/null && mungekey -c -f -k /etc/munge/munge.key) ||
      dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  chmod 0400 /etc/munge/munge.key
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged --force
}

start() {
  if [ "$(id -u)" != 0 ]; then log "needs root"; exit 1; fi
  for tool in slurmctld slurmd sinfo munged; do
    command -v "$tool" >/dev/null || { log "$tool missing: apt-get install slurm-wlm munge"; exit 1; }
  done
  if [ "$(node_state)" = idle ] || [ "$(node_state)" = mixed ]; then log "already up"; return; fi
  write_conf
  start_munge
  pgrep -x slurmctld >/dev/null || slurmctld -c
  pgrep -x slurmd >/dev/null || slurmd -c
  for _ in $(seq 1 60); do
    case "$(node_state)" in
      idle|mixed|allocated) log "node $HOST is $(node_state)"; return 0 ;;
      down|drained|draining) scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  log "node did not become idle; logs:"; tail -n 20 "$STATE"/slurmctld.log "$STATE"/slurmd.log >&2 || true
  exit 1
}

stop() {
  pkill -x slurmd 2>/dev/null || true
  pkill -x slurmctld 2>/dev/null || true
  for _ in $(seq 1 20); do pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || break; sleep 0.25; done
  pkill -9 -x slurmd 2>/dev/null || true
  pkill -9 -x slurmctld 2>/dev/null || true
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) s=$(node_state); [ -n "$s" ] && echo "$s" && [ "$s" != down ] ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
