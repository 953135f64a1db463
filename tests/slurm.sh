#!/usr/bin/env bash
# tests/slurm.sh — tools/explore.slurm on a one-node Slurm of its own:
# munged, slurmctld and slurmd (Debian slurm-wlm, munge) started from a
# scratch folder on ports 16817/16818 (not Slurm's defaults), the script
# submits its job array and the merge, and the merged result must equal
# one `explore` run over the same seeds, with the merge job's exit status
# explore's.  The daemons are stopped again by their pids.  Not part of
# make test (it needs root for munged's key and takes ~30 s); run it as
#   RAFTSIM=build/raftsim tests/slurm.sh
set -u
cd "$(dirname "$0")/.." || exit 2
bin=${RAFTSIM:-build/raftsim}
for p in munged slurmctld slurmd sbatch; do
    command -v "$p" >/dev/null || { echo "slurm: SKIP: no $p (apt-get install slurm-wlm munge)"; exit 0; }
done
[ -r /etc/munge/munge.key ] || { echo "slurm: SKIP: /etc/munge/munge.key unreadable (needs root)"; exit 0; }
tmp=$(mktemp -d /tmp/raftsim-slurm.XXXXXX) || exit 2
host=$(hostname -s)
export SLURM_CONF=$tmp/slurm.conf
stop() {
    for f in slurmd slurmctld munged; do
        [ -s "$tmp/$f.pid" ] && kill "$(cat "$tmp/$f.pid")" 2>/dev/null
    done
    sleep 1
    rm -rf "$tmp"
}
trap stop EXIT
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/out"
cat >"$SLURM_CONF" <<CONF
ClusterName=raftsimtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
munged --socket="$tmp/munge.socket" --pid-file="$tmp/munged.pid" \
    --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" -f || { echo "slurm: FAIL: munged"; exit 1; }
slurmctld -f "$SLURM_CONF" && sleep 1 && slurmd -f "$SLURM_CONF" || { echo "slurm: FAIL: slurm daemons"; exit 1; }
for _ in $(seq 30); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo -h -o %t | grep -q idle || { echo "slurm: FAIL: the node never became idle"; tail "$tmp"/*.log; exit 1; }

args="--seeds 90 --unsafe vote-any"
EXPLORE_SHARDS=3 EXPLORE_ARGS="$args" EXPLORE_OUT="$tmp/out" RAFTSIM="$bin" \
    tools/explore.slurm >"$tmp/submit" 2>&1 || { echo "slurm: FAIL: submit"; cat "$tmp/submit"; exit 1; }
cat "$tmp/submit"
merge=$(grep -o 'merge job [0-9]*' "$tmp/submit" | grep -o '[0-9]*$')
for _ in $(seq 120); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 1; done
pass=0 fail=0
want=$("$bin" explore $args --no-save --quiet --jobs 1 2>&1 | sed 's/ wall_s=.*//')
got=$(sed 's/ wall_s=.*//' "$tmp/out/merged.txt" 2>/dev/null)
if [ -n "$got" ] && [ "$got" = "$want" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "slurm: FAIL: merged result differs from one run"; diff <(echo "$want") <(echo "$got"); fi
ls "$tmp/out"/shard-{0,1,2}.json >/dev/null 2>&1 && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "slurm: FAIL: shard files"; ls "$tmp/out"; }
code=$(scontrol show job "$merge" 2>/dev/null | grep -o ' ExitCode=[0-9]*' | grep -o '[0-9]*$')
[ "$code" = 1 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "slurm: FAIL: merge job exit code '$code', wanted 1 (violations)"; }
echo "slurm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
