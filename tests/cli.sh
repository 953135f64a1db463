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
check "missing value" 2 "explore: --seeds: missing value" "$bin" explore --seeds
check "stray argument" 2 "unexpected argument" "$bin" explore extra
check "heartbeat vs election" 2 "must be shorter" "$bin" explore --heartbeat 200ms
check "bad trace path" 2 "cannot write trace" "$bin" explore --seeds 1 --trace /nonexistent/dir/t.jsonl

check "clean run" 0 "$last_line" "$bin" explore --seeds 20 --quiet
# the last line is exactly the summary
"$bin" explore --seeds 3 --quiet 2>/dev/null | tail -n 1 | grep -Eq "$last_line" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: last line format"; }

# two voters added in one step: two disjoint majorities, which the
# checker must see (explore's swarm adds n4 and n5 at once)
check "change-two-at-once is found" 1 "first violation: seed [0-9]+, (ElectionSafety|LeaderCompleteness|StateMachineSafety|LogMatching|AckedWriteLost)" \
    "$bin" explore --seeds 300 --no-shrink --unsafe change-two-at-once --save "$tmp/two.scn"
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

# swarm (default): the failing seed's draw is printed and saved; the saved
# schedule is shrunk (before -> after printed) to a few lines that still
# fail the same invariant
check "swarm: the draw is printed" 1 "seed [0-9]+ drew: faults " \
    "$bin" explore --seeds 300 --quiet --unsafe vote-any --save "$tmp/va.scn"
grep -Eq "shrunk .*va.scn: [0-9]+ -> [0-9]+ lines, [0-9]+ -> [0-9]+ commands, [0-9]+ -> [0-9]+ nodes" "$tmp/out" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: explore did not print the shrink"; }
inv=$(grep -o 'first violation: seed [0-9]*, [A-Za-z]*' "$tmp/out" | grep -o '[A-Za-z]*$')
grep -q '^# swarm: faults ' "$tmp/va.scn" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: the draw is not in the saved scenario"; }
n=$(grep -cEv '^[[:space:]]*(#|$)' "$tmp/va.scn")
[ "$n" -le 20 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: shrunk vote-any scenario has $n lines (> 20)"; }
check "shrunk schedule fails the same invariant" 0 "invariant violated: $inv" \
    "$bin" run --clock virtual "$tmp/va.scn"
# the event budget: a seed that reaches it is neither a pass nor a
# violation, said before the last line, exit 1; --json carries it
check "event budget" 1 "2 seed\(s\) stopped at the event budget .*the first: seed 2" \
    "$bin" explore --seeds 3 --quiet --max-events 5000
check "event budget in json" 1 '"over_budget": 2' \
    "$bin" explore --seeds 3 --quiet --max-events 5000 --json --no-save
check "no budget hit by default" 0 "explore: seeds=3 violations=0 " \
    "$bin" explore --seeds 3 --quiet
check "bad max-events" 2 "bad value '5' for --max-events" \
    "$bin" explore --max-events 5
# more windows of seeds: each first failure shrinks to a file that still
# fails the same invariant when run, and at least 3 of these 4 to <= 20
# lines (a schedule's shrink is chaotic: any change to the simulator moves
# every later random draw; over 12 windows of 300 seeds 10 shrank to <= 20
# lines, and at this commit 5 of 101, 201, ..., 601: README section 4)
small=0
for s in 101 201 301 401; do
    check "vote-any from seed $s" 1 "shrunk .*va$s.scn: [0-9]+ -> [0-9]+ lines" \
        "$bin" explore --seeds 300 --start-seed $s --quiet --unsafe vote-any --save "$tmp/va$s.scn"
    inv=$(grep -o 'first violation: seed [0-9]*, [A-Za-z]*' "$tmp/out" | grep -o '[A-Za-z]*$')
    n=$(grep -cEv '^[[:space:]]*(#|$)' "$tmp/va$s.scn")
    [ "$n" -le 20 ] && small=$((small + 1))
    echo "cli: vote-any from seed $s shrank to $n lines"
    check "vote-any from seed $s: the shrunk file fails" 0 "invariant violated: $inv" \
        "$bin" run --clock virtual "$tmp/va$s.scn"
done
[ "$small" -ge 3 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: only $small of 4 vote-any windows shrank to <= 20 lines"; }
check "swarm off: the fixed mix" 1 "reproduce with: .* --swarm off" \
    "$bin" explore --seeds 300 --quiet --swarm off --unsafe vote-any --no-save
check "bad swarm" 2 "expected on or off" "$bin" explore --swarm maybe
check "bad liveness bound" 2 "bad value '0s' for --liveness-within" \
    "$bin" explore --liveness-within 0s
# determinism: every seed twice, the trace hashes compared
check "check-determinism, 300 seeds" 0 "explore: seeds=300 violations=0 " \
    "$bin" explore --nodes 3 --seeds 300 --duration 2s --quiet --check-determinism
# liveness: a bound too short to commit anything fails every seed, and
# the saved (shrunk) file fails `expect progress` the same way
check "liveness failure" 1 "first violation: seed 1, Liveness at" \
    "$bin" explore --nodes 3 --seeds 2 --duration 1s --quiet --liveness-within 1ms --save "$tmp/live.scn"
grep -q "no-leader: no leader had held its term" "$tmp/out" \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no liveness reason"; }
check "liveness replay" 1 "expect progress within 1000us — Liveness no-leader" \
    "$bin" run --clock virtual "$tmp/live.scn"
check "no liveness phase" 0 "explore: seeds=2 violations=0 " \
    "$bin" explore --nodes 3 --seeds 2 --duration 1s --quiet --liveness-within 1ms --no-liveness
# the deaf leader: without CheckQuorum it fails the liveness check, with
# it the same file passes
sed 's/^expect no progress/expect progress/' scenarios/deaf-leader.scn >"$tmp/deaf.scn"
check "deaf leader fails liveness" 1 "Liveness leader-cannot-commit" \
    "$bin" run --clock virtual "$tmp/deaf.scn"
check "deaf leader with CheckQuorum" 0 "ok  expect progress within 3s" \
    "$bin" run --clock virtual scenarios/deaf-leader-checkquorum.scn
# raftsim shrink
check "shrink a liveness failure" 0 "it still fails: Liveness leader-cannot-commit" \
    "$bin" shrink "$tmp/deaf.scn" -o "$tmp/deaf-small.scn"
check "the shrunk file fails the same" 1 "Liveness leader-cannot-commit" \
    "$bin" run --clock virtual "$tmp/deaf-small.scn"
check "shrink: a file that passes" 1 "nothing to shrink" \
    "$bin" shrink scenarios/election-basics.scn -o "$tmp/eb.scn"
check "shrink: no file" 2 "which scenario file" "$bin" shrink
check "shrink: missing file" 2 "cannot read" "$bin" shrink "$tmp/none.scn"
printf 'nodes 3\ncrsh n1\n' >"$tmp/bad.scn"
check "shrink: bad file" 2 "bad.scn:2:1: error: unknown command" \
    "$bin" shrink "$tmp/bad.scn" -o "$tmp/x.scn"
check "shrink: bad max-runs" 2 "bad value '0' for --max-runs" \
    "$bin" shrink --max-runs 0 "$tmp/deaf.scn"
check "shrink: stray argument" 2 "unexpected argument" \
    "$bin" shrink "$tmp/deaf.scn" extra

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
# who fences: `fence remote|self` on the mirror line, nothing else
printf 'nodes 3\nmirror n1=a n2=b fence sefl\n' >"$tmp/fence.scn"
check "run: bad fence" 2 "fence.scn:2:24: error: expected who fences: remote or self, got 'sefl'; did you mean 'self'" \
    "$bin" run "$tmp/fence.scn"
printf 'nodes 3\nmirror fence self\n' >"$tmp/fence.scn"
check "run: fence without servers" 2 "expected NODE=SERVER pairs" \
    "$bin" run "$tmp/fence.scn"
printf 'nodes 3\nmirror n1=postgresql://x@127.0.0.1:1/x n2=b fence self\nawait leader as L within 2s\n' >"$tmp/fence.scn"
check "run: fence self parses" 2 "the PostgreSQL mirror cannot start: server n1: cannot connect" \
    "$bin" run "$tmp/fence.scn"
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

# --- GNU conventions (issue 13) ----------------------------------------
check "run: options after the file" 0 "passed — 13/13" \
    "$bin" run scenarios/split-brain.scn --report "$tmp/sb.html" --quiet
[ -s "$tmp/sb.html" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --report after the file wrote no page"; }
check "run: --opt=value" 0 "seed 3 \(--seed\)" "$bin" run --seed=3 scenarios/split-brain.scn
check "run: -- ends the options" 2 "^--quiet: error: cannot open" "$bin" run -- --quiet
check "run: missing value named" 2 "run: --seed: missing value" "$bin" run scenarios/split-brain.scn --seed
check "run: a flag given a value" 2 "--quiet takes no value" "$bin" run --quiet=yes scenarios/split-brain.scn
check "report: missing value named" 2 "report: -o: missing value" "$bin" report "$tmp/x.jsonl" -o
check "bench: missing value named" 2 "bench throughput: --duration: missing value" "$bin" bench throughput --duration
check "pg: missing value named" 2 "pg status: --timeout: missing value" "$bin" pg status --timeout
check "run: ambiguous abbreviation" 2 "'--c' is ambiguous; it could be --clock --color --checkquorum" \
    "$bin" run --c x scenarios/split-brain.scn
check "run: unambiguous abbreviation" 0 "passed" "$bin" run --qui scenarios/split-brain.scn
check "bench: stray argument" 2 "unexpected argument 'x'" "$bin" bench failover x
# -h and --help on every command and subcommand: the help on stdout, exit 0
for args in "run" "explore" "bench" "bench sim" "bench failover" "bench throughput" \
    "bench rss" "bench pg-failover" "pg" "pg status" "pg health" "report" "version" \
    "explore-merge" "shrink"; do
    for h in -h --help; do
        # shellcheck disable=SC2086
        check "help: $args $h" 0 "usage: " "$bin" $args $h
    done
done
check "help: help run" 0 "usage: .* run \[OPTIONS\] FILE" "$bin" help run
check "help: help bogus" 2 "unknown command 'bogus'" "$bin" help bogus

# run: the command line in place of the file's set-up, named in the header
check "run: overrides in the header" 1 \
    "heartbeat 40ms \(--heartbeat\), election 200-400ms \(--election-timeout\), ack sync \(--ack\), policy raft \(--policy\), prevote off \(--prevote\), checkquorum on \(--checkquorum\)" \
    "$bin" run --ack sync --policy=raft --prevote off --checkquorum on \
    --election-timeout 200ms-400ms --heartbeat 40ms scenarios/split-brain.scn
check "run: file values unmarked" 0 "ack quorum, policy highest-lsn, prevote on, checkquorum" \
    "$bin" run scenarios/split-brain.scn
check "run: --ack changes the run" 1 "x=2 via L expect acked — the write is timeout" \
    "$bin" run --quiet --ack quorum scenarios/async-ack-loss.scn
printf 'nodes 3\nseed 1\nawait leader as L within 900ms\n' >"$tmp/quick.scn"
check "run: quick leader by default" 0 "passed" "$bin" run --quiet "$tmp/quick.scn"
check "run: --election-timeout changes the run" 1 "still not true after 0.900 s" \
    "$bin" run --quiet --election-timeout 1s..2s "$tmp/quick.scn"
check "run: bad --prevote" 2 "bad value 'maybe' for --prevote: use on or off" \
    "$bin" run --prevote maybe scenarios/split-brain.scn
check "run: bad --election-timeout" 2 "bad value '300ms-100ms' for --election-timeout" \
    "$bin" run --election-timeout 300ms-100ms scenarios/split-brain.scn
check "run: heartbeat against the file's election" 2 "heartbeat \(200000 us\) must be shorter" \
    "$bin" run --heartbeat 200ms scenarios/split-brain.scn
: >"$tmp/empty.scn"
check "run: empty file" 2 "empty.scn: error: no commands to run" "$bin" run "$tmp/empty.scn"
printf '# only comments\nnodes 3\n' >"$tmp/setup.scn"
check "run: set-up only" 2 "setup.scn: error: no commands to run" "$bin" run "$tmp/setup.scn"

# colour: only on a terminal (script(1) gives one), never for a non-empty
# NO_COLOR or TERM=dumb; an empty NO_COLOR does not count (no-color.org)
esc=$(printf '\033\[')
tty_run() { # env... -- the run on a pseudo-terminal, output in $tmp/tty
    env "$@" script -qec "$bin run --quiet scenarios/split-brain.scn" /dev/null >"$tmp/tty" 2>&1 </dev/null
}
tty_run TERM=xterm NO_COLOR=; grep -q "$esc" "$tmp/tty" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no colour on a terminal with NO_COLOR empty"; }
tty_run TERM=xterm NO_COLOR=1; grep -q "$esc" "$tmp/tty" && { fail=$((fail + 1)); echo "FAIL: colour despite NO_COLOR=1"; } || pass=$((pass + 1))
tty_run TERM=dumb; grep -q "$esc" "$tmp/tty" && { fail=$((fail + 1)); echo "FAIL: colour despite TERM=dumb"; } || pass=$((pass + 1))
"$bin" run scenarios/split-brain.scn >"$tmp/piped" 2>&1; grep -q "$esc" "$tmp/piped" && { fail=$((fail + 1)); echo "FAIL: colour in a pipe"; } || pass=$((pass + 1))

# piped output is line-buffered: the header is there while the run goes on
"$bin" run --clock real --time-scale 10 scenarios/split-brain.scn >"$tmp/lb" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -s "$tmp/lb" ] && break; sleep 0.1; done
if [ -s "$tmp/lb" ] && kill -0 "$pid" 2>/dev/null; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: nothing on a pipe while the run goes on"; fi
kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null

# Ctrl-C and SIGTERM: stop, say where, sum up, still write trace and report
# (timeout -k: a run that ignored the signal would be killed and fail here)
stopped() { # name signal want-exit pattern command...
    local name=$1 sig=$2 want=$3 pat=$4; shift 4
    local t0 t1
    t0=$(date +%s%N)
    timeout --preserve-status -s "$sig" -k 5 0.8 "$@" >"$tmp/out" 2>&1
    local rc=$?
    t1=$(date +%s%N)
    # a figure, not an assertion: the issue asks for under 100 ms
    echo "cli: $name: exited $(((t1 - t0) / 1000000 - 800)) ms after the signal"
    if [ "$rc" -eq "$want" ] && grep -Eq -- "$pat" "$tmp/out"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $name (exit $rc, wanted $want; pattern '$pat')"
        sed 's/^/    /' "$tmp/out" | head -20
    fi
}
rm -f "$tmp/int.jsonl" "$tmp/int.html"
stopped "run: SIGINT" INT 130 "interrupted at t=[0-9.]+ s \(real\)" \
    "$bin" run --clock real --time-scale 10 scenarios/split-brain.scn \
    --trace "$tmp/int.jsonl" --report "$tmp/int.html"
grep -q "split-brain.scn: interrupted — " "$tmp/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no summary after SIGINT"; }
[ -s "$tmp/int.jsonl" ] && [ -s "$tmp/int.html" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no trace or report after SIGINT"; }
stopped "run: SIGTERM" TERM 143 "interrupted at t=" \
    "$bin" run --clock real --time-scale 10 scenarios/split-brain.scn
stopped "explore tcp: SIGINT" INT 130 "interrupted at t=[0-9.]+ s \(real\) in seed 1" \
    "$bin" explore --transport tcp --seeds 3 --duration 3s --no-save
grep -Eq "$last_line" "$tmp/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: explore: no last line after SIGINT"; }
stopped "explore virtual: SIGINT" INT 130 "interrupted at t=[0-9.]+ s \(virtual\)" \
    "$bin" explore --seeds 100000000 --quiet --no-save
stopped "bench: SIGINT" INT 130 "bench throughput: interrupted at t=" \
    "$bin" bench throughput --nodes 3 --duration 20s
# make demo under Ctrl-C: make waits for raftsim, which sums up; nothing of
# this checkout's binary is left running afterwards
stopped "make demo: SIGINT" INT 130 "interrupted at t=" make -s --no-print-directory demo BUILD="$(dirname "$bin")"
left=0
exe=$(readlink -f "$bin")
for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] && left=$((left + 1)); done
[ "$left" -eq 0 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: $left raftsim process(es) left after Ctrl-C on make demo"; }

# make demo paces itself on a terminal only; DEMO_STEP=0 runs through
demo_tty() { # make arguments...; output in $tmp/tty
    yes "" | head -n 20 | timeout 60 script -qec "make -s --no-print-directory demo BUILD=$(dirname "$bin") DEMO_SCALE=1 $*" /dev/null >"$tmp/tty" 2>&1
}
demo_tty; grep -q "\[step\] press Enter" "$tmp/tty" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: make demo on a terminal did not pause at step"; }
demo_tty DEMO_STEP=0; grep -q "\[step\]" "$tmp/tty" && { fail=$((fail + 1)); echo "FAIL: DEMO_STEP=0 paused"; } || pass=$((pass + 1))
timeout 60 make -s --no-print-directory demo BUILD="$(dirname "$bin")" DEMO_SCALE=1 </dev/null 2>&1 | cat >"$tmp/piped"
grep -q "\[step\]" "$tmp/piped" && { fail=$((fail + 1)); echo "FAIL: piped make demo paused"; } || pass=$((pass + 1))
grep -q "passed — 13/13" "$tmp/piped" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: piped make demo did not run through"; }

# progress on a long real-clock wait: on a terminal only, erased after
printf 'nodes 3\nawait leader as L within 5s\nwait 1500ms\nexpect leaders = 1\n' >"$tmp/wait.scn"
timeout 60 script -qec "$bin run --clock real $tmp/wait.scn" /dev/null >"$tmp/tty" 2>&1 </dev/null
grep -q "waiting (wait 1500ms)… 1\.[0-9] s" "$tmp/tty" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no progress line on a terminal"; sed 's/^/    /' "$tmp/tty" | head; }
timeout 60 "$bin" run --clock real "$tmp/wait.scn" >"$tmp/piped" 2>&1
grep -q "waiting" "$tmp/piped" && { fail=$((fail + 1)); echo "FAIL: progress line in a pipe"; } || pass=$((pass + 1))

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

# explore on every core and on many machines (issue 20): the figures and
# the first failure depend on the seeds only, never on the split
sans_wall() { sed 's/ wall_s=[0-9.]*$//' "$@"; }
timeout 120 "$bin" explore --seeds 300 --quiet --unsafe vote-any --no-save --jobs 1 >"$tmp/j1" 2>&1
timeout 120 "$bin" explore --seeds 300 --quiet --unsafe vote-any --no-save --jobs 2 >"$tmp/j2" 2>&1
if grep -q "first violation: seed" "$tmp/j1" && [ "$(sans_wall "$tmp/j1")" = "$(sans_wall "$tmp/j2")" ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --jobs 1 and --jobs 2 differ"; diff "$tmp/j1" "$tmp/j2"; fi
# the saved schedule is the lowest failing seed's, and it replays
check "--jobs 3 saves the first failure" 1 "as a scenario: .* run $tmp/jobs.scn" \
    "$bin" explore --seeds 120 --quiet --unsafe vote-any --jobs 3 --save "$tmp/jobs.scn"
seed=$(grep -o 'first violation: seed [0-9]*' "$tmp/j1" | grep -o '[0-9]*$')
grep -q "^# explore seed $seed[:,]" "$tmp/jobs.scn" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: saved schedule is not seed $seed's"; }
check "the saved schedule replays" 0 "invariants violated \(as expected\)" "$bin" run --quiet "$tmp/jobs.scn"
# shards 0/3, 1/3, 2/3 merged = one run
for i in 0 1 2; do
    timeout 120 "$bin" explore --seeds 300 --unsafe vote-any --no-save --jobs 1 --shard $i/3 --json >"$tmp/shard$i.json" 2>/dev/null
done
timeout 60 "$bin" explore-merge "$tmp/shard0.json" "$tmp/shard2.json" "$tmp/shard1.json" >"$tmp/merged" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && [ "$(sans_wall "$tmp/j1")" = "$(sans_wall "$tmp/merged")" ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: merged shards (exit $rc) differ from one run"; diff "$tmp/j1" "$tmp/merged"; fi
/usr/bin/python3 - "$tmp/shard1.json" <<'PY' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --json shape"; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["format"] == "raftsim-explore-1"
assert r["shard"] == {"index": 1, "count": 3, "start_seed": 101, "seeds": 100}, r["shard"]
assert r["params"]["seeds"] == 300 and r["params"]["unsafe"] == ["vote-any"]
assert r["totals"]["seeds"] == 100 and r["seeds_per_s"] > 0
assert r["params"]["snapshot_every"] == 0 and r["params"]["membership"] is False
assert r["params"]["transfer"] is False and r["totals"]["transfers"] == 0
f = r["first_failure"]
assert f is None or (101 <= f["seed"] <= 200 and "--start-seed %d " % f["seed"] in f["reproduce"])
PY
"$bin" explore --seeds 300 --nodes 3 --no-save --shard 1/3 --json >"$tmp/other.json" 2>/dev/null
check "merge refuses other parameters" 2 "is not a shard of the same run as .*: \"nodes\" is 3 in .* and 5 in" \
    "$bin" explore-merge "$tmp/shard0.json" "$tmp/other.json" "$tmp/shard2.json"
# --transfer swarm: leaders are asked to hand over now and then; the
# saved schedule holds the `transfer nL to nT` lines and replays to the
# same violation at the same instant
check "explore --transfer swarm transfers" 0 "explore: [1-9][0-9]* leadership transfer\(s\) taken on by a leader" \
    "$bin" explore --seeds 40 --transfer swarm --no-save --jobs 1
check "explore --transfer: bad value" 2 "bad value 'maybe' for --transfer: expected swarm or off" \
    "$bin" explore --transfer maybe
timeout 120 "$bin" explore --seeds 1 --start-seed 108 --transfer swarm --unsafe vote-any --jobs 1 --no-shrink \
    --save "$tmp/xfer.scn" >"$tmp/xfer.out" 2>&1
at=$(grep -o 'first violation: seed 108, [A-Za-z]* at t=[0-9.]*s' "$tmp/xfer.out" | grep -o '[A-Za-z]* at t=[0-9.]*' | sed 's/ at t=/ /')
if [ -n "$at" ] && grep -q "^at [0-9]*us transfer n[0-9] to n[0-9]$" "$tmp/xfer.scn" &&
    grep -q -- "--transfer swarm" "$tmp/xfer.out" &&
    timeout 60 "$bin" run "$tmp/xfer.scn" 2>&1 | grep -q "$(printf '%6.3f' "${at#* }")  !!   invariant violated: ${at% *}"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a schedule with transfers does not replay to its violation ($at)"; sed 's/^/    /' "$tmp/xfer.out" | head; fi
# the snapshot policy and the membership swarm are part of a run's
# parameters: a shard drawn with either cannot merge into one without
timeout 120 "$bin" explore --seeds 300 --unsafe vote-any --no-save --jobs 1 --shard 1/3 --json \
    --snapshot-every swarm --membership swarm >"$tmp/snapm.json" 2>/dev/null
check "merge refuses another snapshot policy" 2 "\"snapshot_every\" is \"swarm\" in .* and 0 in" \
    "$bin" explore-merge "$tmp/shard0.json" "$tmp/snapm.json" "$tmp/shard2.json"
check "merge refuses a shard twice" 2 "shard 0/3 given twice" "$bin" explore-merge "$tmp/shard0.json" "$tmp/shard0.json"
check "merge wants every shard" 2 "1 of 3 shards missing \(the first: 1/3\)" "$bin" explore-merge "$tmp/shard0.json" "$tmp/shard2.json"
check "merge --partial" 1 "figures are of 200 seeds of 300" "$bin" explore-merge --partial "$tmp/shard0.json" "$tmp/shard2.json"
echo '{"format": "something else"}' >"$tmp/bad.json"
check "merge refuses a non-result" 2 "not an explore result" "$bin" explore-merge "$tmp/bad.json"
check "merge: no file" 2 "no FILE given" "$bin" explore-merge
check "bad --shard" 2 "bad value '3/3' for --shard" "$bin" explore --shard 3/3
check "bad --jobs" 2 "bad value '0' for --jobs" "$bin" explore --jobs 0
check "--trace wants one job" 2 "--trace needs --jobs 1" "$bin" explore --jobs 2 --seeds 2 --trace "$tmp/t.jsonl"
# GNU parallel runs the shards (README, "Every core, many machines")
if command -v parallel >/dev/null; then
    rm -f "$tmp"/par*.json
    timeout 120 parallel -j 2 "$bin" explore --seeds 300 --unsafe vote-any --shard {}/3 --json --no-save --jobs 1 \
        '>' "$tmp"/par{}.json ::: 0 1 2 2>/dev/null
    timeout 60 "$bin" explore-merge "$tmp"/par*.json >"$tmp/pmerged" 2>&1
    [ "$(sans_wall "$tmp/j1")" = "$(sans_wall "$tmp/pmerged")" ] && pass=$((pass + 1)) || {
        fail=$((fail + 1)); echo "FAIL: shards from GNU parallel differ from one run"; diff "$tmp/j1" "$tmp/pmerged"; }
else
    fail=$((fail + 1)); echo "FAIL: no GNU parallel (tools/install-deps installs it)"
fi
# the Kubernetes Indexed Job's command, run here for every index with the
# manifest's completions (fewer seeds; raftsim and /results point here)
/usr/bin/python3 - tools/explore-job.yaml >"$tmp/k8s.cmd" <<'PY' || { fail=$((fail + 1)); echo "FAIL: tools/explore-job.yaml"; }
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
spec = job["spec"]
assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
c = spec["template"]["spec"]["containers"][0]
assert c["command"][:2] == ["sh", "-c"]
cmd = c["command"][2]
assert "--shard $JOB_COMPLETION_INDEX/%d" % spec["completions"] in cmd, cmd
print(spec["completions"])
print(cmd)
PY
n=$(head -n 1 "$tmp/k8s.cmd")
kcmd=$(tail -n +2 "$tmp/k8s.cmd" | sed "s|raftsim explore|$bin explore|; s|/results|$tmp/k8s|g; s|--seeds 10000|--seeds 300 --unsafe vote-any|")
mkdir -p "$tmp/k8s"
krc=0
for ((i = 0; i < ${n:-0}; i++)); do JOB_COMPLETION_INDEX=$i timeout 60 sh -c "$kcmd" 2>/dev/null || krc=1; done
timeout 60 "$bin" explore-merge "$tmp"/k8s/shard-*.json 2>&1 | sed 's/ wall_s=.*//' >"$tmp/kmerged"
[ "$krc" -eq 0 ] && [ "$(sans_wall "$tmp/j1")" = "$(cat "$tmp/kmerged")" ] && pass=$((pass + 1)) || {
    fail=$((fail + 1)); echo "FAIL: the Indexed Job's shards (exit $krc) differ from one run"; cat "$tmp/kmerged"; }
# --history: the clients' writes as a Jepsen history, EDN and JSON Lines
check "history: edn" 0 "$last_line" "$bin" explore --seeds 1 --start-seed 8 --quiet --history "$tmp/h.edn"
check "history: json" 0 "$last_line" "$bin" explore --seeds 1 --start-seed 8 --quiet --history "$tmp/h.txt" --history-format json
check "history: per seed" 0 "$last_line" "$bin" explore --seeds 3 --jobs 2 --quiet --history "$tmp/h%llu.json"
check "history: one file, many seeds" 2 "put %llu in the name" "$bin" explore --seeds 3 --history "$tmp/h.edn"
check "history: bad format" 2 "expected edn or json" "$bin" explore --history "$tmp/h.edn" --history-format xml
/usr/bin/python3 - "$tmp/h.txt" "$tmp/h.edn" "$tmp/h1.json" "$tmp/h3.json" <<'PY' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: history shape"; }
import json, re, sys
def edn_to_ops(path):  # the flat maps we write: keywords, strings, ints, one vector
    ops = []
    for line in open(path):
        m = dict(re.findall(r':([a-z-]+) (\[[^\]]*\]|"(?:[^"\\]|\\.)*"|:[a-z-]+|-?[0-9]+)', line))
        op = {}
        for k, v in m.items():
            if v.startswith(":"): op[k] = v[1:]
            elif v.startswith("["): op[k] = json.loads("[" + v[1:-1].replace('" "', '","') + "]")
            elif v.startswith('"'): op[k] = json.loads(v)
            else: op[k] = int(v)
        ops.append(op)
    return ops
def check(ops):
    assert ops, "empty history"
    busy, retired, last_t = {}, set(), -1
    for i, op in enumerate(ops):
        assert op["index"] == i and op["f"] == "write" and len(op["value"]) == 2, op
        assert op["type"] in ("invoke", "ok", "fail", "info"), op
        assert op["time"] >= last_t, op
        last_t = op["time"]
        p = op["process"]
        assert p not in retired, ("a process used after an info", op)
        if op["type"] == "invoke":
            assert p not in busy, ("two operations at once on one process", op)
            busy[p] = op
        else:
            inv = busy.pop(p)
            assert inv["value"] == op["value"] and inv["client"] == op["client"], (inv, op)
            if op["type"] == "info":
                retired.add(p)
    assert not busy, "an invoke without a completion"
    return [o["type"] for o in ops]
j = [json.loads(l) for l in open(sys.argv[1])]
e = edn_to_ops(sys.argv[2])
types = check(j)
assert check(e) == types and e == j, "EDN and JSON differ"
assert {"ok", "info", "fail"} <= set(types), set(types)  # seed 8 times out and refuses
for path in sys.argv[3:]:
    check([json.loads(l) for l in open(path)])
PY
# the progress line on a terminal: seeds/s, violations, ETA; none in a pipe
timeout 60 script -qec "$bin explore --seeds 200 --jobs 2 --no-save" /dev/null >"$tmp/tty" 2>&1 </dev/null
grep -Eq 'explore: [0-9]+/200 seeds, [0-9]+ violations, [0-9]+ seeds/s, ETA [0-9]' "$tmp/tty" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no progress line on a terminal"; }
timeout 60 "$bin" explore --seeds 50 --jobs 2 --no-save 2>&1 | cat >"$tmp/piped"
grep -q "$(printf '\r')" "$tmp/piped" && { fail=$((fail + 1)); echo "FAIL: progress in a pipe"; } || pass=$((pass + 1))
# a worker that dies (here: SIGKILL) is reported, with its seed when it
# died in one (the kill may also land between two seeds: then no seed is
# lost and none is named), exit 2
timeout --preserve-status -s INT 4 "$bin" explore --seeds 1000000 --jobs 2 --quiet --no-save >"$tmp/wd" 2>&1 &
wpid=$!
child=""
for _ in $(seq 40); do # timeout -> raftsim -> its workers
    parent=$(pgrep -P "$wpid" | head -n 1)
    [ -n "$parent" ] && child=$(pgrep -P "$parent" | head -n 1)
    [ -n "$child" ] && break
    sleep 0.1
done
sleep 0.3
[ -n "$child" ] && kill -KILL "$child"
wait "$wpid"
rc=$?
if [ "$rc" -eq 2 ] && grep -Eq "1 worker\(s\) died \(the first of signal 9\)( in seed [0-9]+, which is not in the figures; run it alone: .*--jobs 1)?$" "$tmp/wd"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a dead worker (exit $rc)"; cat "$tmp/wd"; fi
# the speed-up of two workers: a figure, not an assertion (the machine is shared)
t0=$(date +%s%N); "$bin" explore --seeds 200 --quiet --no-save --jobs 1 >/dev/null 2>&1; t1=$(date +%s%N)
"$bin" explore --seeds 200 --quiet --no-save --jobs 2 >/dev/null 2>&1; t2=$(date +%s%N)
echo "cli: explore 200 seeds: --jobs 1 $(((t1 - t0) / 1000000)) ms, --jobs 2 $(((t2 - t1) / 1000000)) ms (x$(awk -v a=$((t1 - t0)) -v b=$((t2 - t1)) 'BEGIN{printf "%.2f", a/b}'))"

# TCP clusters: the descriptor budget is checked up front (issue 15: 128
# nodes failed with "too many open files" only in the trace, exit 0), a
# soft limit is raised to the hard one when that suffices, and --key takes
# the cluster's secret from a file
check "tcp: too few descriptors" 2 "needs about [0-9]+ file descriptors.*ulimit -n" \
    bash -c "ulimit -n 400 && exec '$bin' explore --transport tcp --nodes 30 --seeds 1 --duration 1s"
check "tcp: soft limit raised" 0 "violations=0" \
    bash -c "ulimit -Sn 64 && ulimit -Hn 2048 && exec '$bin' explore --transport tcp --nodes 12 --seeds 1 --duration 1s --settle 1s --quiet"
head -c 32 /dev/urandom >"$tmp/key"
check "tcp: --key" 0 "violations=0" \
    "$bin" explore --transport tcp --seeds 1 --duration 1s --settle 1s --quiet --key "$tmp/key"
printf 'short' >"$tmp/shortkey"
check "tcp: short key" 2 "has too few bytes; a key is 16 to 4096 bytes" \
    "$bin" explore --transport tcp --seeds 1 --key "$tmp/shortkey"
check "tcp: key is not a file" 2 "not a regular file" \
    "$bin" explore --transport tcp --seeds 1 --key /dev/null
check "tcp: key without tcp" 2 "--key needs --transport tcp" \
    "$bin" explore --seeds 1 --key "$tmp/key"
check "run: --key" 0 "passed" \
    "$bin" run --quiet --clock real --key "$tmp/key" scenarios/split-brain.scn
check "run: key without real clock" 2 "--key needs --clock real" \
    "$bin" run --key "$tmp/key" scenarios/split-brain.scn

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
