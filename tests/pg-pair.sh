#!/usr/bin/env bash
# tests/pg-pair.sh — end-to-end check of tools/pg-pair on real PostgreSQL 15
# servers: up, replication a → b, failover to b, pg_rewind of a, a row
# written on a cut-off primary that the rewind must discard, down.
# Every step is bounded (`timeout`, bounded polls); `down` always runs on
# exit.  Prints the wall time of each step.
#
# Uses a private RAFTSIM_PG_DIR (a fresh /tmp directory) unless one is set.
# The ports 5433 and 5434 must be free: the test refuses to run when
# something answers there (for instance a pair someone else brought up).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pair=$root/tools/pg-pair
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
STEP_TIMEOUT=${STEP_TIMEOUT:-90}

if [ ! -x "$PGBIN/pg_ctl" ]; then
    echo "pg-pair.sh: PostgreSQL 15 is not installed ($PGBIN): run tools/install-deps" >&2
    exit 1
fi
for port in 5433 5434; do
    if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1 ||
        [ "$?" -eq 1 ]; then
        echo "pg-pair.sh: something already listens on 127.0.0.1:$port (is a pair up? tools/pg-pair down)" >&2
        exit 1
    fi
done

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

port() { if [ "$1" = a ]; then echo 5433; else echo 5434; fi; }
# q NODE SQL: one query on NODE, bounded
q() {
    PGCONNECT_TIMEOUT=3 timeout 15 "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
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
    local want="a=postgresql://raftsim@127.0.0.1:5433/raftsim b=postgresql://raftsim@127.0.0.1:5434/raftsim"
    [ "$("$pair" env)" = "$want" ]
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
crash_b_up() { "$pair" crash b && "$pair" up; }
crash_b_rejoin() { "$pair" crash b && "$pair" rejoin b; }
export -f crash_b_up crash_b_rejoin cut_b fence_a_promote_b all_rows up_again env_ok restart_b now_ms q port has_row wait_row lacks_row put_row one_primary expect_fail
export PGBIN pair log

echo "tools/pg-pair end to end, RAFTSIM_PG_DIR=$RAFTSIM_PG_DIR"
step "up (initdb a, base backup b, streaming)" "$pair" up
step "up again (idempotent)" up_again
step "env" env_ok
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
step "down" "$pair" down
[ ! -e "$RAFTSIM_PG_DIR" ] || fail "down left $RAFTSIM_PG_DIR behind"
