#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for tests/test_chain_slurm.py.
#
#   tests/slurm/cluster.sh start    install (Debian, as root) if needed, write /etc/slurm/slurm.conf,
#                                   start munged, slurmctld and slurmd by hand (no systemd), wait
#                                   until the node is idle
#   tests/slurm/cluster.sh stop     stop the three daemons by the PIDs in their PID files, remove
#                                   the slurm.conf this script wrote
#   tests/slurm/cluster.sh status   sinfo, or exit 1 when the cluster is not up
#
# Facts behind the settings: no cgroups (proctrack/linuxproc, task/none), no accounting (the
# executor then needs --slurm-status-command squeue; MinJobAge 300 keeps finished jobs visible to
# squeue), slurm.conf at /etc/slurm/slurm.conf (the jobstep plugin removes SLURM_CONF before its
# inner srun). State, logs and PID files live in $MENTORWIJS_SLURM_STATE (default
# /tmp/mentorwijs-slurm). Exit codes: 0 done, 2 SLURM cannot be started here (reason on stderr).
set -euo pipefail

STATE=${MENTORWIJS_SLURM_STATE:-/tmp/mentorwijs-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by mentorwijs tests/slurm/cluster.sh"
MUNGE_RUN=/run/munge
PACKAGES="munge slurmctld slurmd slurm-client"

cannot() { echo "cluster.sh: SLURM cannot be started here: $*" >&2; exit 2; }

pid_of() { [ -s "$1" ] && cat "$1" || true; }

alive() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
        && command -v sbatch >/dev/null; then
        return
    fi
    [ "$(id -u)" = 0 ] || cannot "SLURM is not installed and installing it needs root"
    command -v apt-get >/dev/null || cannot "SLURM is not installed and there is no apt-get (Debian: $PACKAGES)"
    echo "cluster.sh: installing $PACKAGES" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null 2>&1; } \
        || cannot "apt-get install $PACKAGES failed"
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
    if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
        cannot "$CONF exists and was not written by this script (a real cluster?); not touching it"
    fi
    mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d"
    cat > "$CONF" <<CONFEOF
$MARK
ClusterName=mentorwijs
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=300
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONFEOF
}

start_munge() {
    if alive "$MUNGE_RUN/munged.pid"; then return; fi
    mkdir -p "$MUNGE_RUN" /var/log/munge /var/lib/munge
    chown munge:munge "$MUNGE_RUN" /var/log/munge /var/lib/munge
    chmod 711 "$MUNGE_RUN"
    [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null; }
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    if command -v runuser >/dev/null; then
        runuser -u munge -- /usr/sbin/munged || cannot "munged did not start"
    else
        su -s /bin/sh munge -c /usr/sbin/munged || cannot "munged did not start"
    fi
}

start() {
    [ "$(uname -s)" = Linux ] || cannot "not Linux"
    [ "$(id -u)" = 0 ] || cannot "starting the daemons needs root"
    install_packages
    write_conf
    start_munge
    alive "$STATE/slurmctld.pid" || /usr/sbin/slurmctld -i || cannot "slurmctld did not start (see $STATE/slurmctld.log)"
    alive "$STATE/slurmd.pid" || /usr/sbin/slurmd || cannot "slurmd did not start (see $STATE/slurmd.log)"
    for _ in $(seq 1 60); do
        state=$(sinfo -h -o %T 2>/dev/null | head -n 1 || true)
        case "$state" in
            idle*|mixed*|allocated*) echo "cluster.sh: SLURM up: node $(hostname -s) $state" >&2; return 0 ;;
        esac
        sleep 0.5
    done
    cannot "the node did not become idle in 30 s (state '${state:-none}'; see $STATE/*.log)"
}

stop_pid_file() {
    local file=$1 pid
    pid=$(pid_of "$file")
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
    fi
    rm -f "$file"
}

stop() {
    stop_pid_file "$STATE/slurmd.pid"
    stop_pid_file "$STATE/slurmctld.pid"
    stop_pid_file "$MUNGE_RUN/munged.pid"
    if [ -e "$CONF" ] && grep -qF "$MARK" "$CONF"; then rm -f "$CONF"; fi
    echo "cluster.sh: SLURM stopped" >&2
}

status() {
    alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" && sinfo
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
