#!/usr/bin/env bash
# tests/pg-docker.sh — the Docker backend of tools/pg-pair and
# tools/docker-compose.yml, on a Docker daemon the tool starts itself when
# none answers:
#   - the host is left as it was: `iptables -S` (filter and nat), the
#     interfaces (`ip -o link`) and /proc/sys/net/ipv4/ip_forward are
#     compared before and after; no container and no dockerd of ours is
#     left behind;
#   - the traps: a killed container's postmaster.pid names PID 1 (and a
#     new postmaster whose PID 1 is not itself refuses it), the tool
#     removes it only once the container is dead; wal_log_hints is in
#     postgresql.conf, not on the command line; `start` refuses a server
#     that would be a second primary (as after a failed rewind);
#   - docker-compose v1: `up -d`, a write on pg-a visible on pg-b, a
#     failover and rejoin through tools/pg-compose, a rebuild (base
#     backup) and a mirrored switchover through it (final-lsn, follow
#     without pg_rewind), `down -v`.
# Prints the image (load or build), pair start and container failover
# (docker kill → pg_promote → first write) times.  Every step is bounded.
# Usage: tests/pg-docker.sh   (as root: it may start dockerd)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pair=$root/tools/pg-pair
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export RAFTSIM_PG_BACKEND=docker
# shellcheck source=tests/pg-lib.sh
. "$root/tests/pg-lib.sh"
pick_port_base 4 || exit 1
BASE=$RAFTSIM_PG_PORT_BASE
pgroot=$(mktemp -d /tmp/raftsim-pgd.XXXXXX)
chmod 755 "$pgroot"
export RAFTSIM_PG_DIR=$pgroot/pair
tmp=$(mktemp -d)
pass=0 fails=0
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
ok() { pass=$((pass + 1)); echo "pg-docker: ok $*"; }
ko() { fails=$((fails + 1)); echo "pg-docker: FAIL $*"; }

host_state() {
    { iptables -S; iptables -t nat -S; } 2>&1 || true
    ip -o link | awk '{print $2}'
    echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
}
host_state >"$tmp/before"

compose_up=false
cleanup() {
    local rc=$?
    trap - EXIT
    if $compose_up; then
        timeout 120 docker-compose -f "$root/tools/docker-compose.yml" down -v >/dev/null 2>&1 || true
    fi
    timeout 120 "$pair" down >"$tmp/down" 2>&1 || { echo "pg-docker: down failed:"; cat "$tmp/down"; rc=1; }
    host_state >"$tmp/after"
    if diff "$tmp/before" "$tmp/after" >"$tmp/diff"; then
        echo "pg-docker: ok the host's iptables (filter, nat), interfaces and ip_forward are as before"
    else
        echo "pg-docker: FAIL the host changed:"
        sed 's/^/    /' "$tmp/diff"
        rc=1
    fi
    # ours: the daemon with its data-root in this pair's directory (other
    # runs on the machine may have their own)
    if pgrep -f -- "--data-root $RAFTSIM_PG_DIR/" >/dev/null; then
        echo "pg-docker: FAIL a dockerd was left running: $(pgrep -a -f -- "--data-root $RAFTSIM_PG_DIR/")"
        rc=1
    else
        echo "pg-docker: ok no dockerd of this run is left"
    fi
    [ -e "$RAFTSIM_PG_DIR" ] && { echo "pg-docker: FAIL $RAFTSIM_PG_DIR left behind"; rc=1; }
    rm -rf "$tmp" "$pgroot"
    [ "$fails" -eq 0 ] || rc=1
    echo "pg-docker: $pass passed, $fails failed"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

q() { # PORT SQL
    PGPASSFILE=$RAFTSIM_PG_DIR/pgpass PGCONNECT_TIMEOUT=3 timeout 15 "$PGBIN/psql" \
        -X -q -At -w -h 127.0.0.1 -p "$1" -U raftsim -d raftsim -c "$2"
}

# --- the pair on containers --------------------------------------------
t=$(now_ms)
if timeout 1200 "$pair" up >"$tmp/up" 2>&1; then
    ok "tools/pg-pair --docker up in $(($(now_ms) - t)) ms"
    grep -E 'dockerd|image|up in' "$tmp/up" | sed 's/^/    /'
else
    ko "tools/pg-pair --docker up"
    tail -30 "$tmp/up"
    exit 1
fi
# shellcheck source=/dev/null
read -r IMAGE _ <"$RAFTSIM_PG_DIR/image"
[ -f "$RAFTSIM_PG_DIR/dockerd.pid" ] && export DOCKER_HOST=unix://$RAFTSIM_PG_DIR/docker.sock
DOCKER=$(command -v /usr/bin/docker || command -v docker)
ca=raftsim-pg$BASE-a

if grep -q '^wal_log_hints = on' "$RAFTSIM_PG_DIR/a/postgresql.conf" &&
    ! "$DOCKER" inspect -f '{{join .Args " "}}' "$ca" | grep -q wal_log_hints; then
    ok "wal_log_hints is in postgresql.conf, not on the server's command line"
else
    ko "wal_log_hints: $("$DOCKER" inspect -f '{{join .Args " "}}' "$ca")"
fi

# trap 1: docker kill leaves postmaster.pid naming PID 1
q "$BASE" "CREATE TABLE t (v text); INSERT INTO t VALUES ('one')" >/dev/null
"$pair" crash a >/dev/null
if [ "$(head -1 "$RAFTSIM_PG_DIR/a/postmaster.pid" 2>/dev/null)" = 1 ]; then
    ok "after docker kill, a's postmaster.pid names PID 1"
else
    ko "postmaster.pid after docker kill: $(head -1 "$RAFTSIM_PG_DIR/a/postmaster.pid" 2>&1)"
fi
# ... which a postmaster refuses when PID 1 is another live process, not
# itself nor its parent (sh -> sh -> postgres; bounded, removed after)
stale=raftsim-stale$BASE
"$DOCKER" run -d --name "$stale" --network host --user postgres -v "$RAFTSIM_PG_DIR:$RAFTSIM_PG_DIR" \
    --entrypoint /bin/sh "$IMAGE" -c "sh -c '/usr/lib/postgresql/15/bin/postgres -D $RAFTSIM_PG_DIR/a -p $BASE; echo inner=\$?'; echo outer" \
    >/dev/null
for _ in $(seq 1 100); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$stale")" = true ] || break
    sleep 0.2
done
"$DOCKER" logs "$stale" >"$tmp/stale" 2>&1 || true
"$DOCKER" rm -f "$stale" >/dev/null 2>&1 || true
if grep -q 'lock file "postmaster.pid" already exists' "$tmp/stale"; then
    ok "a stale postmaster.pid naming PID 1 stops a postmaster that is not PID 1 (the trap is real)"
else
    ko "stale postmaster.pid: $(cat "$tmp/stale")"
fi
"$pair" promote b >/dev/null
q $((BASE + 1)) "INSERT INTO t VALUES ('two')" >/dev/null
# trap 3: a (no standby.signal, as after a failed rewind) must not come
# back as a second primary
if "$pair" start a >"$tmp/start" 2>&1; then
    ko "start a beside primary b succeeded: $(cat "$tmp/start")"
elif grep -q 'refusing to start' "$tmp/start" &&
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$ca" 2>/dev/null)" != true ]; then
    ok "start a refused while b is the primary: $(cat "$tmp/start")"
else
    ko "start a: $(cat "$tmp/start")"
fi
if [ -f "$RAFTSIM_PG_DIR/a/postmaster.pid" ]; then
    ok "the refused start left a's postmaster.pid alone"
else
    ko "the refused start removed postmaster.pid before checking"
fi
# the rejoin removes the stale pid file (a's container is dead) and rewinds
if "$pair" rejoin a >"$tmp/rejoin" 2>&1 && [ "$(q "$BASE" "SELECT count(*) FROM t")" = 2 ]; then
    ok "rejoin a after docker kill: $(grep rejoined "$tmp/rejoin" | sed 's/^pg-pair: //')"
else
    ko "rejoin a: $(tail -15 "$tmp/rejoin")"
fi
# a running container's pid file is never touched
"$pair" start a >"$tmp/start2" 2>&1 || true
if grep -q 'already running' "$tmp/start2" && [ -f "$RAFTSIM_PG_DIR/a/postmaster.pid" ]; then
    ok "start on a running container keeps its postmaster.pid"
else
    ko "start a (running): $(cat "$tmp/start2")"
fi

# failover time on containers: docker kill b (the primary) → pg_promote on
# a → the first write a accepts (3 trials, each followed by a rejoin)
cb=raftsim-pg$BASE-b
times=()
from=b to=a
for trial in 1 2 3; do
    cf=raftsim-pg$BASE-$from
    pto=$BASE
    [ "$to" = b ] && pto=$((BASE + 1))
    t=$(now_ms)
    "$DOCKER" kill "$cf" >/dev/null
    q "$pto" "SELECT pg_promote(true, 30)" >/dev/null
    for _ in $(seq 1 300); do
        q "$pto" "INSERT INTO t VALUES ('trial $trial')" >/dev/null 2>&1 && break
        sleep 0.01
    done
    times+=("$(($(now_ms) - t))")
    "$pair" rejoin "$from" >/dev/null 2>&1 || { ko "rejoin $from after trial $trial"; break; }
    tmpn=$from from=$to to=$tmpn
done
echo "pg-docker: docker kill -> pg_promote -> first write: ${times[*]} ms"
[ ${#times[@]} -eq 3 ] && ok "3 container failovers"
unset cb

"$pair" down >/dev/null
# the compose file, on the same daemon (the tool's dockerd, if it started
# one, is gone with down: start it again without a pair)
"$pair" image >"$tmp/img" 2>&1 || { ko "tools/pg-pair image: $(cat "$tmp/img")"; exit 1; }
[ -f "$RAFTSIM_PG_DIR/dockerd.pid" ] && export DOCKER_HOST=unix://$RAFTSIM_PG_DIR/docker.sock

# --- docker-compose v1 -------------------------------------------------
export COMPOSE_PROJECT_NAME=raftsim-test$BASE
RAFTSIM_PG_IMAGE=$IMAGE
RAFTSIM_PG_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export RAFTSIM_PG_IMAGE RAFTSIM_PG_PASSWORD
cq() { # PORT SQL
    PGPASSWORD=$RAFTSIM_PG_PASSWORD PGCONNECT_TIMEOUT=3 timeout 15 "$PGBIN/psql" \
        -X -q -At -w -h 127.0.0.1 -p "$1" -U raftsim -d raftsim -c "$2"
}
wait_value() { # PORT SQL VALUE
    for _ in $(seq 1 150); do
        [ "$(cq "$1" "$2" 2>/dev/null)" = "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
dc=(docker-compose -f "$root/tools/docker-compose.yml")
t=$(now_ms)
compose_up=true
if timeout 300 "${dc[@]}" up -d >"$tmp/cup" 2>&1; then
    ok "docker-compose up -d in $(($(now_ms) - t)) ms"
else
    ko "docker-compose up -d: $(tail -20 "$tmp/cup")"
    "${dc[@]}" logs --tail 20 || true
    exit 1
fi
cq "$BASE" "CREATE TABLE c (v text); INSERT INTO c VALUES ('on a')" >/dev/null
if wait_value $((BASE + 1)) "SELECT v FROM c" "on a" &&
    [ "$(cq $((BASE + 1)) 'SELECT pg_is_in_recovery()')" = t ]; then
    ok "compose: a write on pg-a is visible on the standby pg-b"
else
    ko "compose: the row did not reach pg-b"
fi
if PGPASSWORD=wrong timeout 15 "$PGBIN/psql" -X -w -h 127.0.0.1 -p "$BASE" -U raftsim -d raftsim \
    -c 'SELECT 1' >/dev/null 2>&1; then
    ko "compose: a wrong password logged in"
else
    ok "compose: a wrong password is refused (scram-sha-256, no trust line)"
fi
# the mirror-control template of README section 7, by hand
ctl=$root/tools/pg-compose
if timeout 120 "$ctl" crash a >/dev/null 2>&1 && timeout 120 "$ctl" promote b >/dev/null 2>&1 &&
    cq $((BASE + 1)) "INSERT INTO c VALUES ('on b')" >/dev/null; then
    ok "compose: tools/pg-compose crash a, promote b, a write on b"
else
    ko "compose: crash a / promote b"
fi
if timeout 120 "$ctl" start a >"$tmp/cstart" 2>&1; then
    ko "compose: tools/pg-compose start a came back beside primary b"
else
    ok "compose: start a refused while b is the primary ($(grep -o 'refusing[^;]*' "$tmp/cstart" | head -1))"
fi
if timeout 300 "$ctl" rejoin a >"$tmp/crejoin" 2>&1 && wait_value "$BASE" "SELECT count(*) FROM c" 2 &&
    [ "$(cq "$BASE" 'SELECT pg_is_in_recovery()')" = t ]; then
    ok "compose: tools/pg-compose rejoin a (pg_rewind), a streams b's rows"
else
    ko "compose: rejoin a: $(tail -15 "$tmp/crejoin")"
fi
# a snapshot install and a switchover through tools/pg-compose.  b is the
# primary here and a its standby: `rebuild a` (a new base backup), then
# switchover.scn with its nodes mapped the other way round (n1=b, n2=a:
# b leads first, so the mirror's set-up has nothing to move) through the
# template: final-lsn, then follow.  The mirror's narration says what the
# servers did, and the switchover's control commands ran no pg_rewind.
t=$(now_ms)
if timeout 300 "$ctl" rebuild a >"$tmp/crebuild" 2>&1 &&
    grep -q 'rebuilt: base backup [0-9]* bytes' "$tmp/crebuild" &&
    wait_value "$BASE" "SELECT count(*) FROM c" 2 &&
    [ "$(cq "$BASE" 'SELECT pg_is_in_recovery()')" = t ]; then
    ok "compose: tools/pg-compose rebuild a in $(($(now_ms) - t)) ms: $(grep -o 'base backup [0-9]* bytes' "$tmp/crebuild"), a streams b's rows"
else
    ko "compose: rebuild a: $(tail -15 "$tmp/crebuild")"
fi
sed -E '/^mirror /s/n1=a n2=b/n1=b n2=a/; /^expect pg /{s/ (a|b)( |$)/ @\1@\2/g; s/@a@/b/g; s/@b@/a/g}' \
    "$root/scenarios/pg/switchover.scn" >"$tmp/switchover-ba.scn"
t=$(now_ms)
if PGPASSWORD=$RAFTSIM_PG_PASSWORD RAFTSIM_PG_DIR=$tmp/no-pair RAFTSIM_PG_LOG=$tmp/cctl.log \
    timeout 600 "${RAFTSIM:-$root/build/raftsim}" run --color never \
    --mirror-control "$ctl {action} {server}" "$tmp/switchover-ba.scn" >"$tmp/cscn" 2>&1 &&
    grep -q "pg a replayed up to .* = b's final LSN" "$tmp/cscn" &&
    grep -q 'pg b rejoined as a standby of a without pg_rewind' "$tmp/cscn" &&
    grep -q 'follows the other server without pg_rewind' "$tmp/cctl.log" &&
    ! grep -q 'pg_rewind:' "$tmp/cctl.log"; then
    ok "compose: switchover.scn (n1=b, n2=a) through tools/pg-compose in $(($(now_ms) - t)) ms: a replayed b's final LSN, b follows a without pg_rewind"
else
    ko "compose: switchover.scn (n1=b, n2=a) through tools/pg-compose"
    if grep -qE 'pg |passed|FAILED|!!' "$tmp/cscn"; then
        grep -E 'pg |passed|FAILED|!!' "$tmp/cscn" | tail -20 | sed 's/^/    /'
    else # it stopped before any narration: what it said
        tail -20 "$tmp/cscn" | sed 's/^/    /'
    fi
    grep -E 'pg_rewind|follow' "$tmp/cctl.log" 2>/dev/null | tail -5 | sed 's/^/    /'
fi
if timeout 120 "${dc[@]}" down -v >"$tmp/cdown" 2>&1; then
    compose_up=false
    ok "docker-compose down -v"
else
    ko "docker-compose down -v: $(cat "$tmp/cdown")"
fi
left=$("$DOCKER" ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -z "$left" ] && ok "no compose container left" || ko "compose containers left: $left"
