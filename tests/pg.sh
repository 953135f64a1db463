#!/usr/bin/env bash
# tests/pg.sh — raftsim against a real PostgreSQL pair (tools/pg-pair):
# every scenario in scenarios/pg/ (the read files also with --ack quorum
# and under --clock real), `pg status`, and `GET /health/db` going
# 503 (read-only) when the primary dies and 200 again after a promotion.
# The scenarios run back to back on one pair of three servers; the other
# checks get a fresh pair (`up --fresh`).  The pair is always taken down
# at the end, also when a step fails.  Every step is bounded by `timeout`.
# Usage: RAFTSIM=build/raftsim tests/pg.sh [--docker] [SCENARIO...]
#   --docker (or RAFTSIM_PG_BACKEND=docker): the servers in containers
# The ports: a free base (RAFTSIM_PG_PORT_BASE) unless one is set.
set -u
cd "$(dirname "$0")/.."
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

t0=$(date +%s)
up || exit 1
echo "pg: pair up in $(($(date +%s) - t0)) s"
grep -E 'image|dockerd' "$tmp/up.log" | sed 's/^/pg: /'
if [ $# -gt 0 ]; then files="$*"; else files=$(ls scenarios/pg/*.scn); fi

# ---- back to back (runner_mirror_setup.c): every file in ONE invocation
# on ONE pair; before each file the mirror itself brings the servers to
# its starting state (the primary on the file's first leader, the others
# streaming from it, raftsim_kv empty), whatever the file before left.
# Three servers, c remote (3 s apply delay), for the three-server files;
# taken down after, so the checks below get a fresh two-server pair.
t0=$(date +%s)
timeout 120 "$pair" down >/dev/null 2>&1
if ! timeout 900 "$pair" up --servers 3 --remote c=3s >"$tmp/up.log" 2>&1; then
    ko "tools/pg-pair up --servers 3 --remote c=3s"
    sed 's/^/    /' "$tmp/up.log" | tail -30
fi
echo "pg: three servers up in $(($(date +%s) - t0)) s"
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
# The read files (runner_mirror_read.c) again, on the same three servers:
# with quorum acks (synchronous_standby_names = ANY 1 (b, c): a commit
# waits for a standby's flush, not its apply, so c's reads stay late) and
# under the real clock.
reads="scenarios/pg/stale-read.scn scenarios/pg/read-your-writes.scn
scenarios/pg/monotonic-reads.scn scenarios/pg/replica-down.scn"
if [ $# -eq 0 ]; then
    for how in "--ack quorum" "--clock real"; do
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
timeout 120 "$pair" down >/dev/null 2>&1
# ---- end of back to back

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

port=$((20000 + RANDOM % 20000))
"$bin" pg health --listen "127.0.0.1:$port" --lag-alert 10s --for 120s \
    2>"$tmp/health.log" &
health_pid=$!
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
