#!/usr/bin/env bash
# A single-node Slurm cluster for the tests, without systemd: munged,
# slurmctld and slurmd run as root with every file (config, key, state,
# spool, logs, pid files) under DIR.
#
#   slurm/testcluster.sh start DIR    # starts the three daemons, waits until the node is idle
#   slurm/testcluster.sh status DIR   # which daemons run (exit 0 only if all three do)
#   slurm/testcluster.sh stop DIR     # stops them by recorded pid: slurmd, slurmctld, munged
#
# Then: export SLURM_CONF=DIR/slurm.conf (client commands need it).
# The node advertises 4 CPUs (SlurmdParameters=config_overrides) so that a
# 4-task job fits on a 2-core machine.  Ports: DG_SLURMCTLD_PORT and
# DG_SLURMD_PORT (default 6817 and 6818).  Needs Debian's slurmctld, slurmd,
# slurm-client and munge (jobs/setup.sh installs them).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|status DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")
conf=$dir/slurm.conf
DAEMONS=(slurmd slurmctld munged) # stop order; started in reverse

pid_file() { echo "$dir/run/$1.pid"; }

running() {
  local f
  f=$(pid_file "$1")
  [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

write_config() {
  local ctld_port=${DG_SLURMCTLD_PORT:-6817} d_port=${DG_SLURMD_PORT:-6818}
  cat >"$conf" <<EOF
# Written by slurm/testcluster.sh: a one-node test cluster under $dir
ClusterName=dgtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket.2
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$(pid_file slurmctld)
SlurmdPidFile=$(pid_file slurmd)
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
TmpFS=$dir/tmp
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 Sockets=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

# Waits up to $2 tenths of a second for the pid file of $1 to name a live process.
wait_pid() {
  local i
  for ((i = 0; i < $2; i++)); do
    running "$1" && return 0
    sleep 0.1
  done
  echo "testcluster: $1 did not start; see $dir/log" >&2
  return 1
}

start() {
  for d in "${DAEMONS[@]}"; do
    if running "$d"; then
      echo "testcluster: $d already runs (pid $(cat "$(pid_file "$d")")) for $dir" >&2
      exit 1
    fi
  done
  mkdir -p "$dir"/{munge,state,spool,log,run,tmp}
  chmod 755 "$dir" "$dir/munge" # munged refuses a socket folder others may write to
  local up
  for up in "$(dirname "$dir")" "$(dirname "$(dirname "$dir")")"; do
    # munged also wants every folder above its socket open to all (o+x)
    if [ "$(($(stat -c %a "$up") % 2))" = 0 ]; then
      echo "testcluster: $up must be searchable by all users (chmod o+x) for munged's socket" >&2
      exit 1
    fi
  done
  [ -f "$dir/munge/munge.key" ] || mungekey --create --keyfile="$dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket.2" \
    --pid-file="$(pid_file munged)" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
  wait_pid munged 50
  write_config
  export SLURM_CONF=$conf
  slurmctld -f "$conf"
  wait_pid slurmctld 100
  slurmd -f "$conf" -N localhost
  wait_pid slurmd 100
  local i state=""
  for ((i = 0; i < 300; i++)); do
    state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.1
  done
  if [ "$state" != idle ]; then
    echo "testcluster: node state '$state' after 30 s; see $dir/log" >&2
    exit 1
  fi
  echo "testcluster: up in $dir; export SLURM_CONF=$conf"
}

# TERM by recorded pid, then wait (KILL after 20 s) so that nothing is left.
stop_one() {
  local f pid i
  f=$(pid_file "$1")
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "testcluster: $1 (pid $pid) ignored TERM for 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

stop() {
  for d in "${DAEMONS[@]}"; do
    stop_one "$d"
  done
  echo "testcluster: stopped ($dir)"
}

status() {
  local all=0
  for d in "${DAEMONS[@]}"; do
    if running "$d"; then
      echo "$d: running (pid $(cat "$(pid_file "$d")"))"
    else
      echo "$d: stopped"
      all=1
    fi
  done
  if [ $all = 0 ]; then
    SLURM_CONF=$conf sinfo -N -o "%N %t %c" || true
  fi
  return $all
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
