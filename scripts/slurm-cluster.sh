#!/usr/bin/env bash
# A multi-node Slurm cluster on this machine, for tests: each node is a network namespace with
# its own eth0, address and hostname; real slurmctld, slurmd, srun, sbatch, salloc and mpirun.
#
#   scripts/slurm-cluster.sh start [--nodes N] [--accounting] [--index I]
#   scripts/slurm-cluster.sh stop [--index I]
#   scripts/slurm-cluster.sh status [--index I]
#   scripts/slurm-cluster.sh env [--index I]      print the `export SLURM_CONF=...` line
#
# Several clusters can run side by side: --index I (0-9, default $SMARTSIM_SLURM_INDEX or 0)
# picks the state directory (.slurm/cI, or $SMARTSIM_SLURM_DIR/cI), the subnet 10.231.I.0/24
# (host side 10.231.I.1, node nK at 10.231.I.(10+K)), the ports (17I01-17I04) and the names of
# the namespaces (ssInK), links (ssIvK) and bridge (ssbrI). Nothing under /etc is written: the
# configuration is reached through SLURM_CONF (`source .slurm/cI/env`). A private munged serves
# this cluster only; --accounting adds slurmdbd and a private MariaDB so that `sacct` works.
#
# stop ends only what start started: the daemons by their pid files, then whatever still runs in
# the cluster's namespaces (`ip netns pids`), then removes the links, namespaces and bridge.
# Needs root, iproute2, util-linux (nsenter, unshare), Debian's slurm-wlm and munge (plus
# slurmdbd and mariadb-server for --accounting).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
INDEX=${SMARTSIM_SLURM_INDEX:-0}
NODES=3
ACCOUNTING=0
CMD=${1:-}
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES=$2; shift 2 ;;
    --accounting) ACCOUNTING=1; shift ;;
    --index) INDEX=$2; shift 2 ;;
    *) echo "slurm-cluster: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$INDEX" in [0-9]) ;; *) echo "slurm-cluster: --index must be 0-9" >&2; exit 2 ;; esac
case "$NODES" in [1-9]) ;; *) echo "slurm-cluster: --nodes must be 1-9" >&2; exit 2 ;; esac

DIR=${SMARTSIM_SLURM_DIR:-$ROOT/.slurm}/c$INDEX
CONF=$DIR/etc/slurm.conf
NET=10.231.$INDEX
BRIDGE=ssbr$INDEX
PORT_BASE=$((17000 + INDEX * 100))
CTLD_PORT=$((PORT_BASE + 1))
SLURMD_PORT=$((PORT_BASE + 2))
DBD_PORT=$((PORT_BASE + 3))
SQL_PORT=$((PORT_BASE + 4))
HOST=$(hostname -s)
CLUSTER=smartsim-c$INDEX
MUNGE_SOCKET=$DIR/munge/munge.socket.2

log() { echo "slurm-cluster[c$INDEX]: $*" >&2; }
ns() { echo "ss${INDEX}n$1"; }
veth() { echo "ss${INDEX}v$1"; }
slurm() { SLURM_CONF=$CONF "$@"; }

node_count() { cat "$DIR/nodes" 2>/dev/null || echo 0; }

write_conf() {
  local accounting_lines
  mkdir -p "$DIR"/etc "$DIR"/ctld "$DIR"/munge "$DIR"/log
  if [ "$ACCOUNTING" = 1 ]; then
    accounting_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
AccountingStoragePass=$MUNGE_SOCKET
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
  else
    accounting_lines="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
  fi
  cat > "$CONF" <<CONF
# Written by scripts/slurm-cluster.sh: a $NODES-node test cluster (index $INDEX) of network namespaces.
ClusterName=$CLUSTER
SlurmctldHost=$HOST($NET.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d-%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.log
$accounting_lines
InactiveLimit=0
KillWait=5
MinJobAge=300
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=n[1-$NODES] NodeAddr=$NET.[11-$((10 + NODES))] CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=n[1-$NODES] Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
  {
    echo "127.0.0.1 localhost"
    echo "$NET.1 $HOST"
    for k in $(seq 1 "$NODES"); do echo "$NET.$((10 + k)) n$k"; done
  } > "$DIR/hosts"
  echo "export SLURM_CONF=$CONF" > "$DIR/env"
  echo "$NODES" > "$DIR/nodes"
  echo "$ACCOUNTING" > "$DIR/accounting"
}

start_munge() {
  if [ ! -s "$DIR/munge.key" ]; then
    dd if=/dev/urandom bs=1024 count=1 of="$DIR/munge.key" 2>/dev/null
  fi
  chmod 0400 "$DIR/munge.key"
  chmod 0755 "$DIR/munge"
  /usr/sbin/munged --force --socket="$MUNGE_SOCKET" --key-file="$DIR/munge.key" \
    --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge.seed"
}

start_network() {
  ip link add "$BRIDGE" type bridge
  ip addr add "$NET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for k in $(seq 1 "$NODES"); do
    ip netns add "$(ns "$k")"
    ip link add "$(veth "$k")" type veth peer name eth0 netns "$(ns "$k")"
    ip link set "$(veth "$k")" master "$BRIDGE" up
    ip -n "$(ns "$k")" addr add "$NET.$((10 + k))/24" dev eth0
    ip -n "$(ns "$k")" link set eth0 up
    ip -n "$(ns "$k")" link set lo up
  done
}

start_accounting() {
  local sql=$DIR/mysql
  if [ ! -d "$sql/mysql" ]; then
    mariadb-install-db --datadir="$sql" --user=root --auth-root-authentication-method=socket \
      --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 ||
      { log "mariadb-install-db failed:"; tail -n 20 "$DIR/log/mariadb-install.log" >&2; return 1; }
  fi
  setsid mariadbd --no-defaults --datadir="$sql" --socket="$DIR/mysql.sock" \
    --pid-file="$DIR/mariadbd.pid" --port="$SQL_PORT" --bind-address=127.0.0.1 --user=root \
    --log-error="$DIR/log/mariadbd.log" --skip-name-resolve </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    mariadb -S "$DIR/mysql.sock" -u root -e "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.2
  done
  # A fresh accounting database each start: job ids restart at 1 with slurmctld -c.
  mariadb -S "$DIR/mysql.sock" -u root -e "
    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm-test';
    DROP DATABASE IF EXISTS slurm_acct_db;
    CREATE DATABASE slurm_acct_db;
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" ||
    { log "MariaDB did not come up:"; tail -n 20 "$DIR/log/mariadbd.log" >&2; return 1; }
  cat > "$DIR/etc/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdHost=$HOST
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$DIR/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$SQL_PORT
StorageUser=slurm
StoragePass=slurm-test
StorageLoc=slurm_acct_db
CONF
  chmod 0600 "$DIR/etc/slurmdbd.conf"
  SLURM_CONF=$CONF slurmdbd
  for _ in $(seq 1 50); do
    slurm timeout 5 sacctmgr -n list cluster >/dev/null 2>&1 && break
    sleep 0.2
  done
  slurm timeout 10 sacctmgr -i add cluster "$CLUSTER" >/dev/null ||
    { log "slurmdbd does not answer:"; tail -n 20 "$DIR/log/slurmdbd.log" >&2; return 1; }
}

nodes_up() {
  local idle
  idle=$(slurm sinfo -h -N -o '%N %T' 2>/dev/null | awk '$2 ~ /^(idle|mixed|allocated|completing)/' | wc -l)
  [ "$idle" -ge "$(node_count)" ] && [ "$(node_count)" -gt 0 ]
}

start() {
  if [ "$(id -u)" != 0 ]; then log "needs root"; exit 1; fi
  for tool in slurmctld slurmd sinfo munged ip nsenter unshare; do
    command -v "$tool" >/dev/null || { log "$tool missing: apt-get install slurm-wlm munge iproute2"; exit 1; }
  done
  if [ "$ACCOUNTING" = 1 ]; then
    for tool in slurmdbd mariadbd mariadb-install-db; do
      command -v "$tool" >/dev/null || { log "$tool missing: apt-get install slurmdbd mariadb-server"; exit 1; }
    done
  fi
  if [ -f "$CONF" ] && nodes_up && [ "$(cat "$DIR/accounting" 2>/dev/null)" = "$ACCOUNTING" ] &&
    [ "$(node_count)" = "$NODES" ]; then
    log "already up ($NODES nodes)"; return 0
  fi
  stop_quietly
  rm -rf "$DIR"/ctld "$DIR"/d-* "$DIR"/log "$DIR"/jobcomp.log
  write_conf
  start_munge
  start_network
  if [ "$ACCOUNTING" = 1 ]; then start_accounting; fi
  slurm slurmctld -c -f "$CONF"
  for k in $(seq 1 "$NODES"); do
    nsenter --net="/run/netns/$(ns "$k")" unshare --uts --mount --propagation private \
      sh -c "mount --bind '$DIR/hosts' /etc/hosts && hostname n$k && exec slurmd -N n$k -f '$CONF'"
  done
  for _ in $(seq 1 120); do
    if nodes_up; then
      log "up: $NODES nodes on $NET.0/24$([ "$ACCOUNTING" = 1 ] && echo ', with accounting'); source $DIR/env"
      return 0
    fi
    slurm scontrol update NodeName="n[1-$NODES]" State=RESUME >/dev/null 2>&1 || true
    sleep 0.5
  done
  log "nodes did not become idle; logs:"
  tail -n 20 "$DIR"/log/slurmctld.log "$DIR"/log/slurmd-*.log >&2 || true
  exit 1
}

# End one process we started (by pid file): TERM, then KILL after ~5 s.
stop_pidfile() {
  local file=$1 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  rm -f "$file"
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_quietly() {
  local k name pids
  for file in "$DIR"/slurmd-*.pid "$DIR/slurmctld.pid" "$DIR/slurmdbd.pid" "$DIR/mariadbd.pid" \
    "$DIR/munged.pid"; do
    [ -e "$file" ] && stop_pidfile "$file"
  done
  for k in $(seq 1 9); do
    name=$(ns "$k")
    [ -e "/run/netns/$name" ] || continue
    pids=$(ip netns pids "$name" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    ip link del "$(veth "$k")" 2>/dev/null || true
    ip netns del "$name" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  # `ip netns add` mounts /run/netns onto itself; undo that when no namespace is left.
  if [ -d /run/netns ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ] && mountpoint -q /run/netns; then
    umount /run/netns 2>/dev/null || true
  fi
}

stop() {
  stop_quietly
  log "stopped"
}

status() {
  [ -f "$CONF" ] || { log "not started"; return 1; }
  slurm sinfo -h -N -o '%N %T' 2>/dev/null || true
  nodes_up
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) [ -f "$DIR/env" ] && cat "$DIR/env" ;;
  *) echo "usage: $0 start [--nodes N] [--accounting] [--index I] | stop | status | env" >&2; exit 2 ;;
esac
