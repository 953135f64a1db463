#!/usr/bin/env bash
# tests/pg.sh — raftsim against a real PostgreSQL pair (tools/pg-pair):
# every scenario in scenarios/pg/ under the virtual clock, the files whose
# outcome depends on the clock also under the real clock, the read files
# also with --ack quorum (these two passes on the local backend; on
# Docker a subset that covers what Docker changes: see the lists below), the fence (a client's BEGIN READ WRITE on the fenced server fails) and Ctrl-C mid-run (one
# primary left, settings restored), `pg status`, and `GET /health/db`
# going 503 (read-only) when the primary dies and 200 again after a
# promotion.
# The scenarios run back to back on one pair of three servers; the other
# checks get a fresh pair (`up --fresh`).  The pair is always taken down
# at the end, also when a step fails.  Every step is bounded by `timeout`.
# Usage: RAFTSIM=build/raftsim tests/pg.sh [--docker] [SCENARIO...]
#   --docker (or RAFTSIM_PG_BACKEND=docker): the servers in containers
#   SCENARIO...: run only these files, once, back to back (no other pass)
# The ports: a free base (RAFTSIM_PG_PORT_BASE) unless one is set.
set -u
cd "$(dirname "$0")/.."

# ---- the files of each pass (a new scenarios/pg/ file is in the first
# pass by itself; add it to another list when it belongs there too)
# Every file, back to back on the local backend, virtual clock:
files_all=$(ls scenarios/pg/*.scn)
# Again under the real clock (nodes over TCP in real time): the files
# whose outcome depends on the clock.  The mirror holds the cluster's
# clock during each PostgreSQL step, so under the real clock a slow
# step (promote, pg_rewind, a fence) must not let election timers run
# on: failover and split-brain (crash or partition, fence, promote,
# rejoin), fence-self (a is fenced when its own node hears the higher
# term, over TCP) and fence-self-quorum (a commit wait cancelled after
# 2 s of wall time, the clock held meanwhile).  c's apply delay (3 s) is
# wall time, and under the real clock the files' waits are too, so the
# stale and back-in-time reads on c must still fall inside that window:
# stale-read and monotonic-reads.  The other files' steps do not depend
# on how time passes (LSN tokens, app writes, one failover each, all
# covered above) and the rest of the real clock (TCP, timers) is
# tests/scenarios.sh's.
files_real="scenarios/pg/failover.scn scenarios/pg/split-brain.scn
scenarios/pg/fence-self.scn scenarios/pg/fence-self-quorum.scn
scenarios/pg/stale-read.scn scenarios/pg/monotonic-reads.scn"
# The read files (runner_mirror_read.c) again with --ack quorum:
files_reads="scenarios/pg/stale-read.scn scenarios/pg/read-your-writes.scn
scenarios/pg/monotonic-reads.scn scenarios/pg/replica-down.scn"
# On the Docker backend, instead of every file: what the containers
# change is how a server is crashed (docker kill), stopped (fenced),
# promoted and rejoined (pg_rewind between containers), and that the
# servers reach each other over the containers' network (streaming,
# re-pointing, a cut primary_conninfo, the remote c's apply delay); the
# mirror's logic is the same as on the local backend, which runs every
# file.  failover (docker kill, promote, rejoin), split-brain (a cut
# standby, a fence by the new leader, rejoin), fence-self (a fenced by
# its own node: docker stop from the old leader's side),
# three-servers-failover (three containers, c re-pointed to b across the
# network) and stale-read (reads on a container standby with the delay);
# snapshot-rebuild (pg_basebackup in a container) and, last since it
# leaves b the primary, switchover (docker stop's fast shutdown,
# pg_controldata and pg_waldump in containers, a restart as a standby).
files_docker="scenarios/pg/failover.scn scenarios/pg/split-brain.scn
scenarios/pg/fence-self.scn scenarios/pg/three-servers-failover.scn
scenarios/pg/stale-read.scn scenarios/pg/snapshot-rebuild.scn
scenarios/pg/switchover.scn"

bin=${RAFTSIM:-build/raftsim}
pair=tools/pg-pair
if [ "${1:-}" = --docker ]; then
    export RAFTSIM_PG_BACKEND=docker
    shift
fi
backend=${RAFTSIM_PG_BACKEND:-local}
# shellcheck source=tests/pg-lib.sh
. tests/pg-lib.sh
pick_port_base 3 || exit 1
pass=0 fail=0
tmp=$(mktemp -d)
export RAFTSIM_PG_LOG="$tmp/control.log"
# The servers run as the postgres user when we are root, and it must be
# able to reach their directory: a checkout under /root would not do.
pgroot=
if [ -z "${RAFTSIM_PG_DIR:-}" ]; then
    pgroot=$(mktemp -d /tmp/raftsim-pg.XXXXXX)
    chmod 755 "$pgroot"
    export RAFTSIM_PG_DIR="$pgroot/pair"
fi
echo "pg: $backend backend, ports from $RAFTSIM_PG_PORT_BASE, $RAFTSIM_PG_DIR"
health_pid=
cleanup() {
    [ -n "$health_pid" ] && kill "$health_pid" 2>/dev/null
    timeout 120 "$pair" down >/dev/null 2>&1
    rm -rf "$tmp"
    [ -n "$pgroot" ] && rm -rf "$pgroot"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

ok() { pass=$((pass + 1)); }
ko() {
    fail=$((fail + 1))
    echo "pg: FAIL: $*"
}

up() {
    if ! timeout 900 "$pair" up --fresh >"$tmp/up.log" 2>&1; then
        echo "pg: tools/pg-pair up failed:"
        sed 's/^/    /' "$tmp/up.log" | tail -30
        return 1
    fi
}

if [ $# -gt 0 ]; then
    files="$*"
elif [ "$backend" = docker ]; then
    files=$files_docker
else
    files=$files_all
fi

# ---- back to back (runner_mirror_setup.c): every file in ONE invocation
# on ONE pair; before each file the mirror itself brings the servers to
# its starting state (the primary on the file's first leader, the others
# streaming from it, raftsim_kv empty), whatever the file before left.
# Three servers, c remote (3 s apply delay), for the three-server files;
# taken down after, so the checks below get a fresh two-server pair.
t0=$(date +%s)
if ! timeout 900 "$pair" up --fresh --servers 3 --remote c=3s >"$tmp/up.log" 2>&1; then
    echo "pg: tools/pg-pair up --fresh --servers 3 --remote c=3s failed:"
    sed 's/^/    /' "$tmp/up.log" | tail -30
    exit 1
fi
echo "pg: three servers up in $(($(date +%s) - t0)) s"
grep -E 'image|dockerd' "$tmp/up.log" | sed 's/^/pg: /'
t0=$(date +%s)
# shellcheck disable=SC2086 # $files is a list of paths
if timeout 1800 "$bin" run --color never $files >"$tmp/out" 2>&1; then
    ok
    grep -E '^[^ ].*: passed' "$tmp/out" | sed 's/^/pg: ok /'
    echo "pg: back to back on one pair: $(echo $files | wc -w) files in $(($(date +%s) - t0)) s"
else
    ko "back to back: $files"
    grep -E '^[^ ].*: (passed|failed)|!!|cannot' "$tmp/out" | sed 's/^/    /' | tail -40
    echo "    --- control commands:"
    tail -20 "$RAFTSIM_PG_LOG" 2>/dev/null | sed 's/^/    /'
fi
# What the switchover and the snapshot install did (runner_mirror_switch.c,
# runner_mirror_rebuild.c), beyond their expectations, which hold without
# them too: b replayed a's final LSN before its promotion, a came back
# without pg_rewind (the tool's own history check said so in the control
# log), b got a new base backup
case " $(echo $files) " in *" scenarios/pg/switchover.scn "*)
    if grep -q "pg b replayed up to .* = a's final LSN" "$tmp/out" &&
        grep -q 'pg a rejoined as a standby of b without pg_rewind' "$tmp/out" &&
        grep -q 'a (127.0.0.1:[0-9]*): follows b without pg_rewind' "$RAFTSIM_PG_LOG"; then
        ok
        echo "pg: switchover: $(grep -o "b replayed up to [^(]*" "$tmp/out" | head -1); $(grep -o 'follows b without pg_rewind in [0-9]* ms' "$RAFTSIM_PG_LOG" | head -1)"
    else
        ko "switchover.scn: no replay to a's final LSN, or a rejoined with pg_rewind"
        grep -E 'pg (switchover|b replayed|a rejoined)|!!' "$tmp/out" | sed 's/^/    /' | tail -8
    fi ;;
esac
case " $(echo $files) " in *" scenarios/pg/snapshot-rebuild.scn "*)
    if grep -q 'pg b gets a new base backup from a (pg_basebackup, ' "$tmp/out" &&
        grep -q 'b (127.0.0.1:[0-9]*): rebuilt from a: base backup' "$RAFTSIM_PG_LOG"; then
        ok
    else
        ko "snapshot-rebuild.scn: b got no new base backup"
        grep -E 'pg b |!!' "$tmp/out" | sed 's/^/    /' | tail -8
    fi ;;
esac
# The read files (runner_mirror_read.c) again, on the same three servers:
# with quorum acks (synchronous_standby_names = ANY 1 (b, c): a commit
# waits for a standby's flush, not its apply, so c's reads stay late).
reads=$files_reads
if [ $# -eq 0 ] && [ "$backend" = local ]; then
    for how in "--ack quorum"; do
        t0=$(date +%s)
        # shellcheck disable=SC2086 # $how and $reads are lists
        if timeout 900 "$bin" run --color never $how $reads >"$tmp/out" 2>&1; then
            ok
            echo "pg: reads with $how: $(echo $reads | wc -w) files in $(($(date +%s) - t0)) s"
        else
            ko "reads with $how"
            grep -E '^[^ ].*: (passed|FAILED)|!!|expectation failed' "$tmp/out" | sed 's/^/    /' | tail -20
        fi
    done
fi
# The clock-dependent files under the real clock (TCP between the
# nodes), on the same pair (the local backend; the list is at the top).
if [ $# -eq 0 ] && [ "$backend" = local ]; then
    t0=$(date +%s)
    # shellcheck disable=SC2086 # $files_real is a list of paths
    if timeout 1800 "$bin" run --color never --clock real $files_real >"$tmp/out" 2>&1; then
        ok
        grep -E '^[^ ].*: passed' "$tmp/out" | sed 's/^/pg: ok (real clock) /'
        echo "pg: back to back under the real clock: $(echo $files_real | wc -w) files in $(($(date +%s) - t0)) s"
    else
        ko "back to back under the real clock: $files_real"
        grep -E '^[^ ].*: (passed|failed)|!!|cannot' "$tmp/out" | sed 's/^/    /' | tail -40
    fi
fi
timeout 120 "$pair" down >/dev/null 2>&1
# ---- end of back to back

# ---- the fence holds, and Ctrl-C leaves one primary with the settings
# restored (runner_mirror_fence.c).  A quorum run under the real clock
# fails over from a to b and then waits; meanwhile a client that
# overrides every session default (`BEGIN READ WRITE` after `SET
# synchronous_commit = local`, the way round the old read-only fence)
# must not commit on the fenced a, while b takes the same write.  Then
# SIGINT: b's synchronous_standby_names ('ANY 1 (a)', with a stopped: a
# plain INSERT would wait forever) must be back to its default, a plain
# INSERT on b must commit within 10 s, and exactly one server accept
# writes (`pg status` shows one primary; it exits 1 as a is down).
up || { ko "pair for the fence"; exit 1; }
conn() { timeout 30 "$pair" env | tr ' ' '\n' | sed -n "s/^$1=//p"; }
psql_on() { # SERVER SQL: exit status of psql, bounded
    PGCONNECT_TIMEOUT=3 timeout 10 /usr/lib/postgresql/15/bin/psql -X -q -At -w \
        -v ON_ERROR_STOP=1 -d "$(conn "$1")" -c "$2" >"$tmp/psql.out" 2>&1
}
rogue='SET synchronous_commit = local; BEGIN READ WRITE; CREATE TABLE IF NOT EXISTS rogue (v int); INSERT INTO rogue VALUES (1); COMMIT'
printf '%s\n' 'nodes 3' 'mirror n1=a n2=b' 'start {n1, n3}' \
    'await leader as L within 3s' 'start n2' 'await caught-up n2 within 3s' \
    'write alice x=1 expect committed' 'await caught-up n2 within 3s' 'isolate n1' \
    'await leader in {n2, n3} as M within 5s' 'expect pg primary is b' \
    'say "fenced and promoted"' 'wait 90s' >"$tmp/fence.scn"
"$bin" run --color never --clock real "$tmp/fence.scn" >"$tmp/fence.out" 2>&1 &
run_pid=$!
for _ in $(seq 1 600); do
    grep -q 'fenced and promoted' "$tmp/fence.out" && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.2
done
if ! grep -q 'fenced and promoted' "$tmp/fence.out"; then
    ko "fence run did not reach its failover"
    tail -20 "$tmp/fence.out" | sed 's/^/    /'
elif psql_on a "$rogue"; then
    ko "fenced server a committed BEGIN READ WRITE + INSERT"
else
    ok
    echo "pg: fenced a refuses BEGIN READ WRITE + INSERT + COMMIT: $(head -1 "$tmp/psql.out")"
    if psql_on b "$rogue"; then
        ok # the same client can write: the probe is not blind
    else
        ko "the promoted b refuses the same write: $(cat "$tmp/psql.out")"
    fi
fi
kill -INT "$run_pid" 2>/dev/null
for _ in $(seq 1 300); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$run_pid" 2>/dev/null; then
    ko "run still going 60 s after SIGINT"
    kill -KILL "$run_pid"
fi
wait "$run_pid"
rc=$?
ssn=$(PGCONNECT_TIMEOUT=3 timeout 10 /usr/lib/postgresql/15/bin/psql -X -At -w \
    -d "$(conn b)" -c 'SHOW synchronous_standby_names' 2>&1)
t0=$(date +%s%N)
psql_on b 'INSERT INTO rogue VALUES (2)'
ins=$?
ins_ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc -eq 130 ] && grep -q 'interrupted at' "$tmp/fence.out" &&
    grep -q 'pg end: left a stopped (fenced), b primary' "$tmp/fence.out" &&
    [ -z "$ssn" ] && [ $ins -eq 0 ] &&
    { timeout 30 "$bin" pg status >"$tmp/status" 2>&1; true; } &&
    [ "$(grep -Ec '^[a-z]+ +up +primary ' "$tmp/status")" = 1 ]; then
    ok
    echo "pg: SIGINT mid-run: exit $rc; $(grep -o 'pg end: left.*' "$tmp/fence.out" | head -1); synchronous_standby_names on b '$ssn'; a plain INSERT on b in $ins_ms ms"
else
    ko "SIGINT mid-run: exit $rc, synchronous_standby_names on b '$ssn', INSERT on b: exit $ins after $ins_ms ms"
    grep -E 'pg |interrupted|!!' "$tmp/fence.out" | tail -12 | sed 's/^/    /'
    cat "$tmp/psql.out" "$tmp/status" 2>/dev/null | sed 's/^/    /'
fi

# ---- `mirror … watch on` (runner_mirror_watch.c): the primary's server
# is killed from outside the simulation (`tools/pg-pair crash a`: an
# immediate stop, `docker kill` on Docker); the watch must see it stop
# answering and crash n1, and the failover then follows from the
# simulation's election
up || { ko "pair for the watch"; exit 1; }
printf '%s\n' 'nodes 3' 'mirror n1=a n2=b watch on' 'start {n1, n3}' \
    'await leader as L within 3s' 'start n2' 'await caught-up n2 within 3s' \
    'write alice x=1 expect committed' 'await caught-up n2 within 3s' \
    'say "watching"' 'await leader in {n2, n3} as M within 60s' \
    'expect pg primary is b' 'write carol z=3 via M expect committed' \
    'expect pg b has z' >"$tmp/watch.scn"
"$bin" run --color never --clock real "$tmp/watch.scn" >"$tmp/watch.out" 2>&1 &
run_pid=$!
for _ in $(seq 1 600); do
    grep -q '── *watching' "$tmp/watch.out" && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.2
done
t0=$(date +%s%N)
timeout 60 "$pair" crash a >/dev/null 2>&1 || ko "pg-pair crash a (watch)"
crash_ms=$((($(date +%s%N) - t0) / 1000000))
for _ in $(seq 1 1200); do
    grep -q 'pg watch: a does not answer' "$tmp/watch.out" && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.05
done
seen_ms=$((($(date +%s%N) - t0) / 1000000))
for _ in $(seq 1 900); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$run_pid" 2>/dev/null && kill -INT "$run_pid"
wait "$run_pid"
rc=$?
if [ $rc -eq 0 ] && grep -q 'pg watch: a does not answer.*n1 crashes in the simulation' "$tmp/watch.out" &&
    grep -q 'pg b promoted for n2' "$tmp/watch.out"; then
    ok
    echo "pg: watch: a killed (the crash command took $crash_ms ms); the watch reported it $seen_ms ms after the command started; b promoted, the run passed"
else
    ko "watch: exit $rc"
    grep -E 'pg |!!|watching|passed|FAILED' "$tmp/watch.out" | tail -15 | sed 's/^/    /'
fi

# `bench pg-failover --detect` (bench_pg_detect.c): two trials of a real
# SIGKILL of the primary's postmaster and children, detected by the watch,
# elected and promoted by the simulation; each trial must end with a write
# on the other server, and no probe round may see two servers commit
if [ "$backend" = local ]; then
    up || { ko "pair for bench pg-failover --detect"; exit 1; }
    timeout 300 "$bin" bench pg-failover --detect --trials 2 >"$tmp/detect.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -q 'trial  2: kill b -> first write on a' "$tmp/detect.out" &&
        grep -q '(ms, 2 trials)' "$tmp/detect.out" &&
        grep -q 'two servers accepting writes in one probe round: 0 of' "$tmp/detect.out"; then
        ok
        echo "pg: bench pg-failover --detect, 2 trials: $(grep -E '^  kill -> first write' "$tmp/detect.out" | tr -s ' ')"
    else
        ko "bench pg-failover --detect: exit $rc"
        tail -15 "$tmp/detect.out" | sed 's/^/    /'
    fi
fi

# `bench switchover --pg` (bench_pg_switch.c, runner_mirror_switch.c): two
# switchovers, a -> b and back; each must end with a write on the new
# primary, the old primary back as a standby without pg_rewind (the
# servers' own logs: tools/pg-pair writes a line there for each follow
# and each pg_rewind) and no probe round with two servers committing
if [ "$backend" = local ]; then
    up || { ko "pair for bench switchover --pg"; exit 1; }
    timeout 300 "$bin" bench switchover --pg --trials 2 >"$tmp/switch.out" 2>&1
    rc=$?
    follows=$(cat "$RAFTSIM_PG_DIR/a.log" "$RAFTSIM_PG_DIR/b.log" | grep -c 'tools/pg-pair follow .* without pg_rewind')
    rewinds=$(cat "$RAFTSIM_PG_DIR/a.log" "$RAFTSIM_PG_DIR/b.log" | grep -c 'tools/pg-pair rejoin .*pg_rewind')
    if [ $rc -eq 0 ] && grep -q 'trial  1: a -> b: first write on b' "$tmp/switch.out" &&
        grep -q 'trial  2: b -> a: first write on a' "$tmp/switch.out" &&
        grep -q '(ms, 2 of 2 trials)' "$tmp/switch.out" &&
        grep -q 'without pg_rewind in 2 of 2 switchovers (0 needed it)' "$tmp/switch.out" &&
        grep -q 'two servers accepting writes in one probe round: 0 of' "$tmp/switch.out" &&
        [ "$follows" = 2 ] && [ "$rewinds" = 0 ]; then
        ok
        echo "pg: bench switchover --pg, 2 trials: $(grep -E '^  request -> first write' "$tmp/switch.out" | tr -s ' '); the servers' logs: $follows follows, $rewinds pg_rewind"
    else
        ko "bench switchover --pg: exit $rc; the servers' logs: $follows follows without pg_rewind, $rewinds pg_rewind"
        tail -25 "$tmp/switch.out" | sed 's/^/    /'
    fi
    # tools/pg-pair's switchover verbs (tools/pg-pair-switch) on their
    # own, on the same pair (a primary, b streaming): final-lsn is where
    # the standby's replay stops once a is stopped cleanly; follow refuses
    # a server whose WAL goes past the new primary's fork (b cut off, then
    # a write on a) and changes nothing; rebuild replaces the directory
    pq() { PGPASSFILE=$RAFTSIM_PG_DIR/pgpass PGCONNECT_TIMEOUT=3 timeout 10 /usr/lib/postgresql/15/bin/psql \
        -X -q -At -w -d "$(conn "$1")" -c "$2" 2>&1; }
    fin=$(timeout 60 "$pair" stop a >/dev/null 2>&1 && timeout 60 "$pair" final-lsn a 2>&1)
    end=${fin%% *}
    rep=
    for _ in $(seq 1 50); do
        rep=$(pq b 'SELECT pg_last_wal_replay_lsn()')
        [ "$rep" = "$end" ] && break
        sleep 0.1
    done
    if [[ $fin == *" timeline "*" checkpoint "*"(shut down)" ]] && [ "$rep" = "$end" ]; then
        ok
        echo "pg: final-lsn a: $fin; b replayed up to $rep"
    else
        ko "final-lsn a said '$fin', b replayed $rep"
    fi
    timeout 60 "$pair" promote b >/dev/null 2>&1 && timeout 120 "$pair" follow a >"$tmp/follow.out" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ "$(pq a 'SELECT pg_is_in_recovery()')" = t ] &&
        ! grep -q 'pg_rewind from' "$RAFTSIM_PG_DIR/a.log"; then
        ok
    else
        ko "follow a after a clean stop: exit $rc: $(cat "$tmp/follow.out")"
    fi
    # a (standby of b) cut off; b writes, stops cleanly; a promoted
    # lacks that write: b must not follow it
    pq a "ALTER SYSTEM SET primary_conninfo = ''" >/dev/null
    pq a 'SELECT pg_reload_conf()' >/dev/null
    for _ in $(seq 1 50); do
        [ "$(pq b "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'a'")" = 0 ] && break
        sleep 0.1
    done
    pq b 'CREATE TABLE IF NOT EXISTS lost (v int); INSERT INTO lost VALUES (1)' >/dev/null
    timeout 60 "$pair" stop b >/dev/null 2>&1
    timeout 60 "$pair" promote a >/dev/null 2>&1
    timeout 120 "$pair" follow b >"$tmp/follow.out" 2>&1
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'it has records a lacks; rejoin b (pg_rewind)' "$tmp/follow.out" &&
        [ "$(pq b 'SELECT 1')" != 1 ]; then
        ok
        echo "pg: follow b refused: $(sed 's/^pg-pair: //' "$tmp/follow.out")"
    else
        ko "follow b with records a lacks: exit $rc: $(cat "$tmp/follow.out")"
    fi
    timeout 120 "$pair" rejoin b >/dev/null 2>&1 || ko "rejoin b after the refused follow"
    touch "$RAFTSIM_PG_DIR/b/raftsim-old-copy"
    if timeout 120 "$pair" rebuild b >"$tmp/rebuild.out" 2>&1 &&
        [ ! -e "$RAFTSIM_PG_DIR/b/raftsim-old-copy" ] &&
        [ "$(pq b 'SELECT pg_is_in_recovery()')" = t ] &&
        [ "$(pq b "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")" = 1 ]; then
        ok
        echo "pg: $(sed 's/^pg-pair: //' "$tmp/rebuild.out")"
    else
        ko "rebuild b: $(cat "$tmp/rebuild.out")"
    fi
fi

# a mirror step that fails is reported and fails the run (exit 1)
up || { ko "pair for the failing step"; exit 1; }
printf '%s\n' 'nodes 3' 'mirror n1=a n2=b' \
    'mirror-control "echo cannot {action} {server} >&2; exit 7"' \
    'start {n1, n3}' 'await leader as L within 3s' 'crash n1' \
    >"$tmp/bad-control.scn"
timeout 120 "$bin" run --quiet --color never --allow-control "$tmp/bad-control.scn" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'pg step failed: `echo cannot crash a' "$tmp/out"; then
    ok
else
    ko "failing control command: exit $rc"
    cat "$tmp/out"
fi

# the report of a mirrored run shows the real servers beside the nodes
# (the page is the same whatever runs the servers: local backend only)
if [ "$backend" = local ]; then
up || { ko "pair for the report"; exit 1; }
if timeout 300 "$bin" run --quiet --color never --trace "$tmp/pg.jsonl" \
        --report "$tmp/pg.html" scenarios/pg/failover.scn >"$tmp/out" 2>&1 &&
    timeout 300 /usr/bin/python3 tests/report_pg.py "$tmp/pg.html" "$tmp/pg.jsonl" \
        build/report-pg.png >"$tmp/rp.out" 2>&1; then
    ok
    sed 's/^/pg: /' "$tmp/rp.out"
else
    ko "report of a mirrored run"
    cat "$tmp/out" "$tmp/rp.out" 2>/dev/null | tail -20
fi
fi

# pg status and the health endpoint, on a fresh pair
up || { ko "pair for health"; exit 1; }
if timeout 30 "$bin" pg status >"$tmp/status" 2>&1 &&
    grep -q '^a .*primary' "$tmp/status" && grep -q '^b .*standby' "$tmp/status"; then
    ok
else
    ko "pg status"
    cat "$tmp/status"
fi

# port 0: the kernel's choice, read from the server's first line (a
# random port may be taken: a connection's ephemeral port, another test)
"$bin" pg health --listen 127.0.0.1:0 --lag-alert 10s --for 120s \
    2>"$tmp/health.log" &
health_pid=$!
port=
for _ in $(seq 1 100); do # 10 s at most
    port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/health/db.*|\1|p' "$tmp/health.log")
    [ -n "$port" ] && break
    kill -0 "$health_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    ko "pg health did not start serving:"
    sed 's/^/    /' "$tmp/health.log"
    port=1 # the GETs below fail and say so
fi
get() { # expected-status pattern
    # The endpoint answers from its last background observation (every
    # 500 ms), so a change shows up within a round or two: ask until it
    # does, bounded.
    local code
    for _ in $(seq 1 100); do
        code=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' \
            "http://127.0.0.1:$port/health/db")
        [ "$code" = "$1" ] && grep -q "$2" "$tmp/body" && break
        sleep 0.1
    done
    if [ "$code" = "$1" ] && grep -q "$2" "$tmp/body"; then
        ok
        echo "pg: GET /health/db -> $code $(cat "$tmp/body")"
    else
        ko "GET /health/db: wanted $1 and '$2', got $code: $(cat "$tmp/body" 2>/dev/null)"
    fi
}
get 200 '"primary":"ok","replica":"ok"'
timeout 60 "$pair" crash a >/dev/null 2>&1 || ko "pg-pair crash a"
get 503 '"mode":"read-only"'
timeout 60 "$pair" promote b >/dev/null 2>&1 || ko "pg-pair promote b"
get 200 '"primary":"ok"'
timeout 120 "$pair" rejoin a >/dev/null 2>&1 || ko "pg-pair rejoin a"
get 200 '"replica":"ok"'
get 200 '"observed_ms_ago":[0-9]'
# 64 slowloris connections (a request line and a header, never the blank
# line) must not lock out a real GET: one try, bounded at 3 s
slow=()
for _ in $(seq 1 64); do
    if exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
        printf 'GET /health/db HTTP/1.1\r\nHost: slow\r\n' >&"$fd"
        slow+=("$fd")
    fi
done
t0=$(date +%s%N)
code=$(curl -s -m 3 -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/health/db")
ms=$((($(date +%s%N) - t0) / 1000000))
if [ ${#slow[@]} -eq 64 ] && [ "$code" = 200 ]; then
    ok
    echo "pg: with 64 slowloris connections open, GET /health/db -> $code in $ms ms"
else
    ko "GET under slowloris: ${#slow[@]} slow connections, got '$code' after $ms ms"
fi
for fd in "${slow[@]}"; do exec {fd}>&-; done
kill "$health_pid" 2>/dev/null
wait "$health_pid" 2>/dev/null
health_pid=

echo "pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
