#!/usr/bin/env bash
# tests/pg-pair.sh — end-to-end check of tools/pg-pair on real PostgreSQL 15
# servers: up, replication a → b, failover to b, pg_rewind of a, a row
# written on a cut-off primary that the rewind must discard; the lab's
# safety (scram-sha-256 with the generated password, no trust line, socket
# directory 0700: another local user cannot log in); three servers with a
# remote standby (recovery_min_apply_delay), a failover among three, a
# second primary refused by start; down.
# Every step is bounded (`timeout`, bounded polls); `down` always runs on
# exit.  Prints the wall time of each step.
#
# Usage: tests/pg-pair.sh [--docker]   (or RAFTSIM_PG_BACKEND=docker)
# Uses a private RAFTSIM_PG_DIR (a fresh /tmp directory) unless one is set,
# and a free port base (RAFTSIM_PG_PORT_BASE) unless one is set, so two
# runs on one machine do not collide.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pair=$root/tools/pg-pair
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
STEP_TIMEOUT=${STEP_TIMEOUT:-90}
[ "${1:-}" = --docker ] && export RAFTSIM_PG_BACKEND=docker
BACKEND=${RAFTSIM_PG_BACKEND:-local}
# a first Docker up may start dockerd and load (or build) the image
[ "$BACKEND" = docker ] && STEP_TIMEOUT=${STEP_TIMEOUT_DOCKER:-1200}
# shellcheck source=tests/pg-lib.sh
. "$root/tests/pg-lib.sh"

if [ ! -x "$PGBIN/psql" ]; then
    echo "pg-pair.sh: PostgreSQL 15 is not installed ($PGBIN): run tools/install-deps" >&2
    exit 1
fi
pick_port_base 3 || exit 1
BASE=$RAFTSIM_PG_PORT_BASE

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
ms_since() { echo $(($(now_ms) - $1)); }
T0=$(now_ms)

own_dir=false
if [ -z "${RAFTSIM_PG_DIR:-}" ]; then
    RAFTSIM_PG_DIR=$(mktemp -u /tmp/raftsim-pg-test.XXXXXX)
    own_dir=true
fi
export RAFTSIM_PG_DIR
log=$(mktemp)

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$rc" -ne 0 ]; then
        echo "---- tools/pg-pair status at the failure:"
        timeout 30 "$pair" status 2>&1 | sed 's/^/    /' || true
        for n in a b; do
            if [ -s "$RAFTSIM_PG_DIR/$n.log" ]; then
                echo "---- last lines of $n.log:"
                tail -n 12 "$RAFTSIM_PG_DIR/$n.log" | sed 's/^/    /'
            fi
        done
    fi
    timeout 60 "$pair" down >/dev/null 2>&1 || echo "pg-pair.sh: tools/pg-pair down failed" >&2
    if $own_dir && [ -d "$RAFTSIM_PG_DIR" ]; then
        echo "pg-pair.sh: $RAFTSIM_PG_DIR still exists after down" >&2
        rc=1
    fi
    rm -f "$log" "$log.up"
    if [ "$rc" -eq 0 ]; then
        echo "PASS: tools/pg-pair end to end (total $(ms_since "$T0") ms)"
    else
        echo "FAIL: tools/pg-pair end to end (exit $rc)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


fail() { echo "FAIL: $*" >&2; exit 1; }

# step NAME COMMAND...: run one bounded step, print its time
step() {
    local name=$1 t rc=0
    shift
    t=$(now_ms)
    # bash -c: a step may be one of the functions below (exported)
    timeout "$STEP_TIMEOUT" bash -c '"$@"' _ "$@" >"$log" 2>&1 || rc=$?
    printf '  %-44s %6d ms\n' "$name" "$(ms_since "$t")"
    if [ "$rc" -ne 0 ]; then
        sed 's/^/    | /' "$log"
        fail "$name exited with $rc"
    fi
}

port() { case $1 in a) echo "$BASE" ;; b) echo $((BASE + 1)) ;; c) echo $((BASE + 2)) ;; esac; }
# q NODE SQL: one query on NODE, bounded, with the pair's password file
q() {
    PGPASSFILE=$RAFTSIM_PG_DIR/pgpass PGCONNECT_TIMEOUT=3 timeout 15 "$PGBIN/psql" \
        -X -q -At -w -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$(port "$1")" -U raftsim -d raftsim -c "$2"
}
has_row() { [ "$(q "$1" "SELECT count(*) FROM pgpair_t WHERE v = '$2'" 2>/dev/null)" = 1 ]; }
# wait_row NODE VALUE: until NODE shows the row (at most 15 s)
wait_row() {
    local deadline=$(($(now_ms) + 15000))
    until has_row "$1" "$2"; do
        [ "$(now_ms)" -lt "$deadline" ] || { echo "$1 lacks row '$2' after 15 s"; return 1; }
        sleep 0.05
    done
}
lacks_row() {
    local c
    c=$(q "$1" "SELECT count(*) FROM pgpair_t WHERE v = '$2'") || return 1
    [ "$c" = 0 ] || { echo "$1 still has row '$2'"; return 1; }
}
put_row() { q "$1" "${3:-}INSERT INTO pgpair_t VALUES ('$2')" >/dev/null; }
# one_primary P S: status names exactly P as primary and S as a standby
one_primary() {
    local out
    out=$("$pair" status) || return 1
    echo "$out"
    grep -qx "primaries: $1" <<<"$out" || { echo "expected exactly one primary, $1"; return 1; }
    grep -Eq "^$2 .* up  standby .*\(streaming from 127\.0\.0\.1:$(port "$1")\)" <<<"$out" ||
        { echo "expected $2 to be a streaming standby of $1"; return 1; }
}
# expect_fail COMMAND...: the command must exit non-zero
expect_fail() { if "$@"; then echo "unexpectedly succeeded: $*"; return 1; fi; }
up_again() { "$pair" up >"$log.up" && grep "already up" "$log.up"; }
env_ok() {
    local pf=$RAFTSIM_PG_DIR/pgpass got uri
    local want="a=postgresql://raftsim@127.0.0.1:$BASE/raftsim?passfile=$pf b=postgresql://raftsim@127.0.0.1:$((BASE + 1))/raftsim?passfile=$pf"
    got=$("$pair" env)
    [ "$got" = "$want" ] || { echo "env: $got"; echo "want $want"; return 1; }
    # what env prints is all a client needs (no PGPASSFILE in this shell)
    uri=${want%% *}
    [ "$(env -u PGPASSFILE timeout 15 "$PGBIN/psql" -X -At -w "${uri#a=}" -c 'SELECT 1')" = 1 ]
}
# another local user (nobody) cannot log in: not over TCP as any role (no
# password), not on the socket (directory 0700), not by reading the
# password file (0600); root with a wrong password is refused too
no_way_in() {
    local pf=$RAFTSIM_PG_DIR/pgpass n u f
    [ "$(stat -c %a "$pf")" = 600 ] || { echo "pgpass mode $(stat -c %a "$pf")"; return 1; }
    [ "$(stat -c %a "$RAFTSIM_PG_DIR/sock")" = 700 ] || { echo "sock mode $(stat -c %a "$RAFTSIM_PG_DIR/sock")"; return 1; }
    for f in "$RAFTSIM_PG_DIR"/[a-h]/pg_hba.conf; do
        if grep -Eiv '^[[:space:]]*(#|$)' "$f" | grep -Eqiw 'trust|peer|ident|password|md5'; then
            echo "$f allows more than scram-sha-256:"; cat "$f"; return 1
        fi
    done
    for n in a b; do
        for u in raftsim postgres replicator; do
            if (cd / && timeout 15 su nobody -s /bin/sh -c \
                "$PGBIN/psql -X -w -h 127.0.0.1 -p $(port $n) -U $u -d postgres -c 'SELECT 1'") >/dev/null 2>&1; then
                echo "nobody logged in to $n as $u over TCP"; return 1
            fi
        done
        if (cd / && timeout 15 su nobody -s /bin/sh -c \
            "$PGBIN/psql -X -w 'host=127.0.0.1 port=$(port $n) user=replicator replication=true' -c 'IDENTIFY_SYSTEM'") >/dev/null 2>&1; then
            echo "nobody opened a replication connection to $n"; return 1
        fi
        if (cd / && timeout 15 su nobody -s /bin/sh -c \
            "$PGBIN/psql -X -w -h $RAFTSIM_PG_DIR/sock -p $(port $n) -U postgres -d postgres -c 'SELECT 1'") >/dev/null 2>&1; then
            echo "nobody logged in to $n on the unix socket"; return 1
        fi
        if env -u PGPASSFILE PGPASSWORD=wrong timeout 15 "$PGBIN/psql" -X -w -h 127.0.0.1 \
            -p "$(port $n)" -U raftsim -d raftsim -c 'SELECT 1' >/dev/null 2>&1; then
            echo "a wrong password logged in to $n"; return 1
        fi
    done
    if (cd / && timeout 15 su nobody -s /bin/sh -c "cat $pf") >/dev/null 2>&1; then
        echo "nobody read $pf"; return 1
    fi
}
restart_b() { "$pair" stop b && "$pair" start b && wait_row b one; }
# what raftsim's mirror does to cut a standby off, and to fence a primary
cut_b() {
    q b "ALTER SYSTEM SET primary_conninfo = ''" && q b "SELECT pg_reload_conf()" >/dev/null
}
fence_a_promote_b() {
    q a "ALTER SYSTEM SET default_transaction_read_only = on" &&
        q a "SELECT pg_reload_conf()" >/dev/null && "$pair" promote b
}
all_rows() {
    local n v
    for n in a b; do for v in one two three; do wait_row "$n" "$v" || return 1; done; done
    lacks_row a lost && lacks_row b lost
}
# c, the remote standby, replays a commit at least its delay (3 s) after
# it was committed on b, by the servers' own clocks (one machine), however
# slow the machine is; a, not remote, within a second
remote_lags() {
    local t_commit t_seen
    t_commit=$(q b "INSERT INTO pgpair_t VALUES ('four') RETURNING extract(epoch FROM clock_timestamp())")
    wait_row a four
    wait_row c four
    t_seen=$(q c "SELECT extract(epoch FROM clock_timestamp())")
    echo "c shows 'four' $(awk "BEGIN {print $t_seen - $t_commit}") s after its commit on b"
    awk "BEGIN {exit !($t_seen - $t_commit >= 2.9)}" ||
        { echo "c replayed 'four' before its 3 s delay"; return 1; }
}
# while c's replay is held (pg_wal_replay_pause), status shows its lag in
# bytes and seconds
status_shows_lag() {
    local line
    q c "SELECT pg_wal_replay_pause()" >/dev/null
    put_row b held
    for _ in $(seq 1 100); do
        [ "$(q b "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 0
                  FROM pg_stat_replication WHERE application_name = 'c'")" = t ] && break
        sleep 0.1
    done
    line=$("$pair" status | grep '^c ')
    q c "SELECT pg_wal_replay_resume()" >/dev/null
    echo "$line"
    grep -Eq 'lag [1-9][0-9]* bytes [0-9]+\.[0-9]+ s .*remote \(recovery_min_apply_delay 3000ms\)' <<<"$line" ||
        { echo "status does not show c lagging in bytes and seconds"; return 1; }
    wait_row c held
}
fresh_two() {
    "$pair" up --fresh --servers 2 >/dev/null || return 1
    one_primary a b || return 1
    if "$pair" status | grep -q '^c '; then echo "c still listed"; return 1; fi
    lacks_row a one 2>/dev/null || [ -z "$(q a "SELECT to_regclass('pgpair_t')")" ]
}
start_b_refused() {
    expect_fail "$pair" start b || return 1
    if "$pair" status | grep -q '^b .* up '; then echo "b runs after a refused start"; return 1; fi
}
crash_b_up() { "$pair" crash b && "$pair" up; }
crash_b_rejoin() { "$pair" crash b && "$pair" rejoin b; }
export -f fresh_two no_way_in remote_lags status_shows_lag start_b_refused crash_b_up crash_b_rejoin cut_b fence_a_promote_b all_rows up_again env_ok restart_b now_ms q port has_row wait_row lacks_row put_row one_primary expect_fail
export PGBIN pair log BASE

echo "tools/pg-pair end to end, RAFTSIM_PG_DIR=$RAFTSIM_PG_DIR"
step "up (initdb a, base backup b, streaming)" "$pair" up
step "up again (idempotent)" up_again
step "env" env_ok
step "another local user cannot log in" no_way_in
step "status: a primary, b standby" one_primary a b
step "rejoin a refused (b is not a primary)" expect_fail "$pair" rejoin a
step "insert on a" q a "CREATE TABLE pgpair_t (v text PRIMARY KEY); INSERT INTO pgpair_t VALUES ('one')"
step "row 'one' visible on b" wait_row b one
step "stop b, start b (fast restart)" restart_b

echo "failover 1: a crashes, b takes over, a rejoins with pg_rewind"
step "crash a" "$pair" crash a
step "promote b" "$pair" promote b
step "write 'two' on b" put_row b two
step "rejoin a (CHECKPOINT, pg_rewind, restart)" "$pair" rejoin a
step "a has b's row 'two' and 'one'" bash -c 'wait_row a two && wait_row a one'
step "status: b primary, a standby" one_primary b a

echo "failover 2: b writes 'lost' while cut off, crashes; a takes over; b is rewound"
step "crash a (b's standby)" "$pair" crash a
step "write 'lost' on b (synchronous_commit=local)" put_row b lost "SET synchronous_commit = local; "
step "crash b" "$pair" crash b
step "start a (standby, upstream down)" "$pair" start a
step "a lacks 'lost' before promotion" lacks_row a lost
step "promote a" "$pair" promote a
step "write 'three' on a" put_row a three
step "rejoin b (pg_rewind discards 'lost')" "$pair" rejoin b
step "b has 'three', 'two', 'one'" bash -c 'wait_row b three && wait_row b two && wait_row b one'
step "'lost' is gone from b and a" bash -c 'lacks_row b lost && lacks_row a lost'
step "status: a primary, b standby" one_primary a b

echo "repairs by up: a crashed standby, a cut-off standby, a fenced old primary"
step "crash b, then up (b restarts)" crash_b_up
step "status: a primary, b standby" one_primary a b
step "crash b, then rejoin b (crashed standby)" crash_b_rejoin
step "status: a primary, b standby" one_primary a b
step "cut b's replication (primary_conninfo = '')" cut_b
step "up (b rejoins, after a 5 s grace)" "$pair" up
step "status: a primary, b standby" one_primary a b
step "fence a, promote b (two primaries)" fence_a_promote_b
step "up (the fenced a rejoins b)" "$pair" up
step "status: b primary, a standby" one_primary b a
step "rows 'one', 'two', 'three' on a and b" all_rows

echo "three servers: c joins as a remote standby (recovery_min_apply_delay 3s)"
step "up --servers 3 --remote c=3s (c from b)" "$pair" up --servers 3 --remote c=3s
step "status: b primary, a and c standbys" bash -c 'one_primary b a && one_primary b c'
step "a write reaches c 3 s after its commit" remote_lags
step "status: c's lag in bytes and seconds" status_shows_lag
step "up again (idempotent, three servers)" up_again
step "up --servers 2 refused (cannot remove one)" expect_fail "$pair" up --servers 2

echo "failover among three: b crashes, a takes over, up rejoins b and re-points c"
step "crash b" "$pair" crash b
step "promote a" "$pair" promote a
step "write 'five' on a" put_row a five
step "start b refused (it would be a second primary)" start_b_refused
step "up (b rewound onto a, c re-pointed at a)" "$pair" up
step "status: a primary, b and c standbys" bash -c 'one_primary a b && one_primary a c'
step "rows 'one' to 'five' on a, b and c" bash -c 'for n in a b c; do for v in one two three four held five; do wait_row $n $v || exit 1; done; done'
step "up --fresh --servers 2 (from scratch, c gone)" fresh_two
step "down" "$pair" down
[ ! -e "$RAFTSIM_PG_DIR" ] || fail "down left $RAFTSIM_PG_DIR behind"
