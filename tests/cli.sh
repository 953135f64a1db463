#!/usr/bin/env bash
# tests/cli.sh — the raftsim command line as a user meets it: exit codes,
# messages for bad flags, the exact last line of explore, reproduction of
# a failing seed.  Every command is bounded by `timeout`.
set -u
bin=${RAFTSIM:-build/raftsim}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, expected-exit, grep-pattern-on-output, command...
    local name=$1 want=$2 pat=$3; shift 3
    timeout 120 "$@" >"$tmp/out" 2>&1
    local rc=$?
    if [ "$rc" -eq "$want" ] && grep -Eq -- "$pat" "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name (exit $rc, wanted $want; pattern '$pat')"
        sed 's/^/    /' "$tmp/out" | head -20
    fi
}

last_line='^explore: seeds=[0-9]+ violations=[0-9]+ acked_lost=[0-9]+ elections=[0-9]+ messages=[0-9]+ simulated_s=[0-9.]+ wall_s=[0-9.]+$'

check "help" 0 "explore" "$bin" --help
check "explore help" 0 "--unsafe RULE" "$bin" explore --help
check "no command" 2 "usage" "$bin"
check "unknown command" 2 "did you mean 'explore'" "$bin" exlpore
check "unknown flag" 2 "did you mean '--seeds'" "$bin" explore --sedes 3
check "bad node count" 2 "bad value '0' for --nodes" "$bin" explore --nodes 0
check "bad duration unit" 2 "missing unit" "$bin" explore --duration 10
check "bad ack" 2 "expected async, quorum or sync" "$bin" explore --ack maybe
check "bad fault" 2 "unknown fault 'flood'" "$bin" explore --faults crash,flood
check "bad unsafe" 2 "expected vote-any" "$bin" explore --unsafe yolo
check "missing value" 2 "needs a value" "$bin" explore --seeds
check "stray argument" 2 "unexpected argument" "$bin" explore extra
check "heartbeat vs election" 2 "must be shorter" "$bin" explore --heartbeat 200ms
check "bad trace path" 2 "cannot write trace" "$bin" explore --seeds 1 --trace /nonexistent/dir/t.jsonl

check "clean run" 0 "$last_line" "$bin" explore --seeds 20 --quiet
# the last line is exactly the summary
"$bin" explore --seeds 3 --quiet 2>/dev/null | tail -n 1 | grep -Eq "$last_line" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: last line format"; }

check "unsafe run fails" 1 "reproduce with: .*--start-seed [0-9]+ --seeds 1 .*--unsafe vote-any" \
    "$bin" explore --seeds 300 --quiet --unsafe vote-any
# reproduce the first failing seed from the printed command, with a trace
cmd=$(grep -o 'reproduce with: .*' "$tmp/out" | sed 's/^reproduce with: [^ ]* //; s/--trace [^ ]*//')
seed=$(grep -o 'first violation: seed [0-9]*' "$tmp/out" | grep -o '[0-9]*$')
# shellcheck disable=SC2086
check "reproduce seed $seed" 1 "violations=[1-9]" "$bin" $cmd --trace "$tmp/repro.jsonl"
grep -q '"kind":"violation"' "$tmp/repro.jsonl" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: reproduced trace has no violation line"; }
# every trace line has t_us, node and kind first
if grep -vEq '^\{"t_us":[0-9]+,"node":"(n[0-9]+|cluster)","kind":"[a-z-]+"' "$tmp/repro.jsonl"; then
    fail=$((fail + 1)); echo "FAIL: trace line without t_us/node/kind"
else
    pass=$((pass + 1))
fi
check "async loses acked writes" 0 "acked_lost=[1-9]" "$bin" explore --seeds 50 --quiet --ack async

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
