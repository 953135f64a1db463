#!/usr/bin/env bash
# tests/node.sh — `raftsim node` (one node as its own process) and the
# processes clock's promise that no node process outlives its run.
#   - bad flags: a clear message and exit 2;
#   - three standalone nodes on loopback ports with one key elect a
#     leader (each prints its role changes); a node with another key is
#     refused at the handshake and never joins;
#   - --listen on a non-loopback address warns;
#   - --wal-dir: a node killed with SIGKILL restarts with its term and
#     log (replayed from its file), and the fsync cost is printed;
#   - `run --clock processes` stopped by SIGINT exits 130, killed by
#     SIGKILL (no clean-up at all) leaves no node process either
#     (PR_SET_PDEATHSIG), and a normal run leaves none.
# Every wait is bounded.  Usage: RAFTSIM=build/raftsim tests/node.sh
set -u
cd "$(dirname "$0")/.." || exit 2
RAFTSIM=${RAFTSIM:-build/raftsim}
tmp=$(mktemp -d) || exit 2
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
nodes_now() { pgrep -c -f '^raftsim node --control-fd' || true; }

expect_usage() { # pattern args...
    local pat=$1; shift
    out=$(timeout 10 "$RAFTSIM" node "$@" 2>&1); rc=$?
    if [ $rc -eq 2 ] && grep -q -- "$pat" <<<"$out"; then ok
    else bad "node $* (exit $rc, wanted 2 and '$pat'): $out"; fi
}
head -c 32 /dev/urandom >"$tmp/key"
head -c 32 /dev/urandom >"$tmp/other.key"
expect_usage "needs --id" --peers n1=127.0.0.1:1 --key "$tmp/key"
expect_usage "expected nN=HOST:PORT" --id 1 --peers x=1 --key "$tmp/key"
expect_usage "the port must be" --id 1 --peers n1=127.0.0.1:99999 --key "$tmp/key"
expect_usage "no n2" --id 1 --peers n1=127.0.0.1:7001,n3=127.0.0.1:7003 --key "$tmp/key"
expect_usage "not in the peer list" --id 3 --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002 --key "$tmp/key"
expect_usage "did you mean" --id 1 --peerz n1=127.0.0.1:7001 --key "$tmp/key"
expect_usage "unexpected argument" --id 1 --peers n1=127.0.0.1:7001 --key "$tmp/key" extra
expect_usage "no --id" --control-fd 3 --id 1

# three free loopback ports
read -r p1 p2 p3 p4 < <(/usr/bin/python3 -c '
import socket
ss=[socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])')
peers="n1=127.0.0.1:$p1,n2=127.0.0.1:$p2,n3=127.0.0.1:$p3"
printf 'n1=127.0.0.1:%s\n# n2 below\nn2=127.0.0.1:%s\nn3=127.0.0.1:%s\n' \
    "$p1" "$p2" "$p3" >"$tmp/cluster"
"$RAFTSIM" node --id 1 --peers "$peers" --key "$tmp/key" --duration 4s \
    >"$tmp/n1" 2>&1 & pids+=($!)
"$RAFTSIM" node --id 2 --cluster "$tmp/cluster" --key "$tmp/key" \
    --duration 4s >"$tmp/n2" 2>&1 & pids+=($!)
"$RAFTSIM" node --id 3 --peers "$peers" --key "$tmp/key" --duration 4s \
    >"$tmp/n3" 2>&1 & pids+=($!)
wait
if cat "$tmp/n1" "$tmp/n2" "$tmp/n3" | grep -q ' leader term '; then ok
else bad "three standalone nodes elected no leader:"; cat "$tmp"/n[123]; fi
if grep -q 'listening on 127.0.0.1' "$tmp/n1"; then ok
else bad "n1 did not say where it listens"; fi
# a node with another key never gets a vote through: two of them with the
# right key alone make no majority of three only if the third is refused
"$RAFTSIM" node --id 1 --peers "$peers" --key "$tmp/key" --duration 2s \
    >"$tmp/k1" 2>&1 & pids+=($!)
"$RAFTSIM" node --id 2 --peers "$peers" --key "$tmp/other.key" --duration 2s \
    >"$tmp/k2" 2>&1 & pids+=($!)
wait
if cat "$tmp/k1" "$tmp/k2" | grep -q ' leader term '; then
    bad "a node with another key helped elect a leader"
else ok; fi
out=$(timeout 10 "$RAFTSIM" node --id 1 --peers "n1=127.0.0.1:$p4" \
    --key "$tmp/key" --listen 0.0.0.0 --duration 200ms 2>&1)
if grep -q 'warning: listening on 0.0.0.0' <<<"$out"; then ok
else bad "--listen 0.0.0.0 did not warn: $out"; fi

# --wal-dir: a node killed with SIGKILL comes back with its log
wal="$tmp/wal"
for i in 1 2 3; do
    "$RAFTSIM" node --id $i --peers "$peers" --key "$tmp/key" --wal-dir "$wal" \
        --duration 4s >"$tmp/w$i" 2>&1 & pids+=($!)
    wp[$i]=$!
done
# until n1 itself has committed the no-op (its own line: the entry is in
# its log, flushed), not only some node: 4 s at most
for _ in $(seq 40); do
    grep -q 'n1 commit lsn [1-9]' "$tmp/w1" && break
    sleep 0.1
done
kill -KILL "${wp[1]}"
wait "${wp[1]}" 2>/dev/null
"$RAFTSIM" node --id 1 --peers "$peers" --key "$tmp/key" --wal-dir "$wal" \
    --duration 1s >"$tmp/w1b" 2>&1
wait
if grep -q 'replayed [0-9]* inputs: term [1-9][0-9]*, log to lsn [1-9]' "$tmp/w1b"; then ok
else bad "n1 restarted from --wal-dir without its log:"; cat "$tmp/w1" "$tmp/w1b"; fi
if grep -q 'fdatasync, mean' "$tmp/w2"; then ok
else bad "--wal-dir printed no fsync cost:"; cat "$tmp/w2"; fi
# the file keeps the seed its node drew (a replay under another one
# rebuilds another history) and the settings: others are refused
w1=$(od -An -c "$wal/n1.wal" | tr -d ' \n')
case $w1 in *raftsim-wal1id=1nodes=3*) ok ;;
*) bad "n1.wal does not begin with its header: $(head -c 200 "$wal/n1.wal" | od -c | head -3)" ;; esac
for extra in "--heartbeat 40ms" "--seed 7"; do
    # shellcheck disable=SC2086
    out=$(timeout 10 "$RAFTSIM" node --id 1 --peers "$peers" --key "$tmp/key" \
        --wal-dir "$wal" --duration 200ms $extra 2>&1); rc=$?
    if [ $rc -ne 0 ] && grep -q 'n1.wal was written .*restart with the same' <<<"$out"; then ok
    else bad "a restart with $extra replayed a file written without it (exit $rc): $out"; fi
done
mkdir "$tmp/junk" && printf 'not a raftsim file at all' >"$tmp/junk/n1.wal"
out=$(timeout 10 "$RAFTSIM" node --id 1 --peers "$peers" --key "$tmp/key" \
    --wal-dir "$tmp/junk" --duration 200ms 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'does not begin with a raftsim node header' <<<"$out" &&
    [ "$(cat "$tmp/junk/n1.wal")" = 'not a raftsim file at all' ]; then ok
else bad "another file as n1.wal: exit $rc, or the file was changed: $out"; fi

# the processes clock: nothing outlives a run
before=$(nodes_now)
timeout 60 "$RAFTSIM" run --quiet --color never --clock processes \
    scenarios/leader-crash.scn >"$tmp/run" 2>&1
rc=$?
sleep 0.5
[ $rc -eq 0 ] && ok || { bad "leader-crash under processes: exit $rc"; cat "$tmp/run"; }
[ "$(nodes_now)" -le "$before" ] && ok || bad "node processes left after a run"
for sig in INT KILL; do
    "$RAFTSIM" run --quiet --color never --clock processes \
        scenarios/majorities-ring.scn >"$tmp/sig" 2>&1 &
    rp=$!
    for _ in $(seq 50); do # until its nodes run (5 s at most)
        [ "$(nodes_now)" -gt "$before" ] && break
        sleep 0.1
    done
    [ "$(nodes_now)" -gt "$before" ] || bad "SIG$sig: the run started no node"
    sleep 0.5
    kill -"$sig" "$rp"
    wait "$rp" 2>/dev/null; rc=$?
    for _ in $(seq 50); do
        [ "$(nodes_now)" -le "$before" ] && break
        sleep 0.1
    done
    if [ "$(nodes_now)" -le "$before" ]; then ok
    else bad "SIG$sig to the runner left node processes: $(pgrep -a -f '^raftsim node --control-fd')"; fi
    want=$([ $sig = INT ] && echo 130 || echo 137)
    [ $rc -eq "$want" ] && ok || bad "SIG$sig: exit $rc, wanted $want"
done
echo "node: $pass passed, $fail failed"
[ $fail -eq 0 ]
