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
    "$bin" explore --seeds 300 --quiet --unsafe vote-any --save "$tmp/replay.scn"
# reproduce the first failing seed from the printed command, with a trace
cmd=$(grep -o 'reproduce with: .*' "$tmp/out" | sed 's/^reproduce with: [^ ]* //; s/--trace [^ ]*//')
seed=$(grep -o 'first violation: seed [0-9]*' "$tmp/out" | grep -o '[0-9]*$')
# shellcheck disable=SC2086
check "reproduce seed $seed" 1 "violations=[1-9]" "$bin" $cmd --trace "$tmp/repro.jsonl" --no-save
grep -q '"kind":"violation"' "$tmp/repro.jsonl" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: reproduced trace has no violation line"; }
# every trace line has t_us, node and kind first
if grep -vEq '^\{"t_us":[0-9]+,"node":"(n[0-9]+|cluster)","kind":"[a-z-]+"' "$tmp/repro.jsonl"; then
    fail=$((fail + 1)); echo "FAIL: trace line without t_us/node/kind"
else
    pass=$((pass + 1))
fi
check "async loses acked writes" 0 "acked_lost=[1-9]" "$bin" explore --seeds 50 --quiet --ack async
# the failing schedule, saved as a scenario, replays the same violation
check "replay saved schedule" 0 "invariants violated \(as expected\)" \
    "$bin" run --quiet "$tmp/replay.scn"
check "replay skipped in real time" 0 "skipped" \
    "$bin" run --quiet --clock real "$tmp/replay.scn"

# raftsim run: bad files and flags
printf 'nodes 3\ncrsh n1\nawait leader as L\nexpect leader is M\n' >"$tmp/bad.scn"
check "run: bad file" 2 "bad.scn:2:1: error: unknown command 'crsh'; did you mean 'crash'\?" \
    "$bin" run "$tmp/bad.scn"
grep -q "bad.scn:4:18: error: variable M is not bound here" "$tmp/out" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: second error not reported"; }
check "run: missing file" 2 "cannot open" "$bin" run "$tmp/none.scn"
check "run: no file" 2 "usage" "$bin" run
check "run: bad clock" 2 "clock" "$bin" run --clock lunar scenarios/split-brain.scn
check "run: unknown flag" 2 "did you mean '--quiet'" "$bin" run --quite scenarios/split-brain.scn
printf 'nodes 3\nawait leader as L within 2s\nexpect leader is n1\nexpect leaders = 1\n' >"$tmp/fail.scn"
check "run: failed expectation" 1 "fail.scn:3: expectation failed: expect leader is n1" \
    "$bin" run --seed 1 "$tmp/fail.scn"
check "run: keep going" 1 "1/2 expectations held" \
    "$bin" run --seed 1 --keep-going "$tmp/fail.scn"
printf 'nodes 3\nmirror n1=postgresql://x@127.0.0.1:1/x n2=b\nawait leader as L within 2s\n' >"$tmp/nopg.scn"
check "run: mirror without a pair" 2 "the PostgreSQL mirror cannot start: server n1: cannot connect" \
    "$bin" run "$tmp/nopg.scn"
check "run: bad --mirror" 2 "bad --mirror.*no node n7" \
    "$bin" run --mirror n7=a scenarios/split-brain.scn
# a file's mirror-control runs nothing unless the command line says so
printf '%s\n' 'nodes 3' 'mirror n1=postgresql://x@127.0.0.1:1/x n2=b' \
    "mirror-control \"touch $tmp/ran; true {action} {server}\"" \
    'await leader as L within 2s' >"$tmp/ctl.scn"
check "run: mirror-control refused" 2 "ctl.scn:3: mirror-control .* would run shell commands.*" \
    "$bin" run --quiet "$tmp/ctl.scn"
grep -q -- "--allow-control" "$tmp/out" && [ ! -e "$tmp/ran" ] \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: refusal names --allow-control / a command ran"; }
check "run: --allow-control lets it through" 2 "mirror cannot start: server n1: cannot connect" \
    "$bin" run --quiet --allow-control "$tmp/ctl.scn"
check "run: --mirror-control lets it through" 2 "mirror cannot start: server n1: cannot connect" \
    "$bin" run --quiet --mirror-control 'true {action} {server}' "$tmp/ctl.scn"
check "run: bad --mirror-control" 2 "must contain \{action\} and \{server\}" \
    "$bin" run --mirror-control 'true' "$tmp/ctl.scn"
check "pg: bad server spec" 2 "expected NAME=CONNINFO" "$bin" pg status --server nonsense
check "pg: unknown command" 2 "did you mean 'status'" "$bin" pg stauts
check "pg: bad listen" 2 "bad --listen" "$bin" pg health --listen nowhere
check "run: passes" 0 "passed — 13/13 expectations held" \
    "$bin" run --quiet scenarios/split-brain.scn

# output files: only regular files are written, write errors fail the run
check "run: --trace to a device" 2 "/dev/full is a character device; only a regular file is written" \
    "$bin" run --quiet --trace /dev/full scenarios/split-brain.scn
check "explore: --trace into /proc" 2 "/proc/self/mem is a kernel file" \
    "$bin" explore --seeds 1 --quiet --trace /proc/self/mem
check "run: --report onto a device" 2 "/dev/null is a character device" \
    "$bin" run --quiet --report /dev/null scenarios/split-brain.scn
[ -c /dev/null ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: /dev/null replaced"; }
"$bin" run --quiet --trace "$tmp/t.jsonl" scenarios/split-brain.scn >/dev/null 2>&1
check "report: -o onto a device" 2 "/dev/full is a character device" \
    "$bin" report "$tmp/t.jsonl" -o /dev/full
check "explore: --save onto a device" 2 "cannot save the schedule: /dev/null is a character device" \
    "$bin" explore --seeds 1 --quiet --save /dev/null
mkdir "$tmp/fifo-dir" && mkfifo "$tmp/fifo-dir/f"
check "run: --trace to a FIFO" 2 "f is a FIFO" \
    "$bin" run --quiet --trace "$tmp/fifo-dir/f" scenarios/split-brain.scn
check "run: --trace to a directory" 2 "is a directory" \
    "$bin" run --quiet --trace "$tmp" scenarios/split-brain.scn
# a write error (here: the file size limit) exits 2 with the path and the
# error, and leaves neither a partial trace nor a temporary file behind
mkdir "$tmp/lim"
( trap '' XFSZ; ulimit -f 64; exec "$bin" explore --seeds 5 --quiet --trace "$tmp/lim/big.jsonl" ) \
    >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "trace lost: cannot write $tmp/lim/big.jsonl: File too large" "$tmp/out" &&
    [ -z "$(ls -A "$tmp/lim")" ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1)); echo "FAIL: trace write error (exit $rc)"; cat "$tmp/out"; ls -la "$tmp/lim"
fi
# stdout that cannot be written is an error too
"$bin" run --quiet scenarios/split-brain.scn >/dev/full 2>"$tmp/out"
rc=$?
[ $rc -eq 2 ] && grep -q "cannot write standard output: No space left on device" "$tmp/out" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: stdout to /dev/full (exit $rc)"; }
# a regular file is replaced atomically; through a symlink, its target
echo old >"$tmp/page.html" && ln -s page.html "$tmp/link.html"
check "run: --report through a symlink" 0 "passed" \
    "$bin" run --quiet --report "$tmp/link.html" scenarios/split-brain.scn
[ -L "$tmp/link.html" ] && grep -q "<html" "$tmp/page.html" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: symlink target not replaced"; }

# control characters from files and servers reach the terminal escaped
esc=$(printf '\033')
printf 'nodes 3\nsay "a%s[2J%s]0;title\a b"\nawait leader as L within 2s\nbogus "x%s[2J"\n' \
    "$esc" "$esc" "$esc" >"$tmp/esc.scn"
check "run: control characters in an error's context" 2 'bogus "x\\x1b\[2J"' \
    "$bin" run --color never "$tmp/esc.scn"
sed -i '$d' "$tmp/esc.scn"
check "run: control characters in say" 0 'a\\x1b\[2J\\x1b\]0;title\\x07 b' \
    "$bin" run --color never "$tmp/esc.scn"
check "pg: a server's message" 2 'invalid URI query parameter: "\\x1b\[2J"' \
    "$bin" pg status --server "a=postgresql://127.0.0.1:1/x?${esc}[2J=1"
for f in "$tmp/esc.scn"; do
    if "$bin" run --color never "$f" 2>&1 | grep -q "$esc"; then
        fail=$((fail + 1)); echo "FAIL: a raw ESC reached the terminal"
    else
        pass=$((pass + 1))
    fi
done

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
