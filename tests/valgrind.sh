#!/usr/bin/env bash
# valgrind.sh — the command line under valgrind's memcheck: each command a
# user runs (a narrated scenario under the virtual and the real clock, the
# HTML report, explore with its shrink, a live shell session, bench sim,
# bad input of every kind) must exit with its usual status and with no
# invalid read or write, no use of uninitialised memory and no definite or
# indirect leak.  valgrind's own exit code 99 marks an error; the command's
# status is checked against what it should be.
#
# Slow under valgrind (≈ 20–50× native): the commands are kept short.
set -u
RAFTSIM=${RAFTSIM:-build/raftsim}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

VG=(valgrind --quiet --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --track-origins=yes)

# vg WANT NAME ARGS...: run ARGS under memcheck, expect exit status WANT
vg() {
    local want=$1 name=$2; shift 2
    local t0=$SECONDS
    timeout 600 "${VG[@]}" --log-file="$tmp/$name.vg" "$@" >"$tmp/$name.out" 2>&1 </dev/null
    local rc=$?
    if [ "$rc" -eq 99 ] || [ -s "$tmp/$name.vg" ]; then
        echo "valgrind.sh: FAIL: $name: memcheck errors (rc $rc):"
        head -40 "$tmp/$name.vg"
        fail=$((fail + 1))
    elif [ "$rc" -ne "$want" ]; then
        echo "valgrind.sh: FAIL: $name: exit $rc, want $want"
        tail -5 "$tmp/$name.out"
        fail=$((fail + 1))
    else
        echo "valgrind.sh: ok: $name (exit $rc, $((SECONDS - t0)) s)"
        pass=$((pass + 1))
    fi
}

printf 'nodes 3\nat 0 crash n9\n' >"$tmp/bad.scn"
printf 'nodes 3\nawait leader as L within 3s\nwrite alice x=1 expect committed\ncrash L\nawait leader within 3s\nexpect no violations\n' >"$tmp/small.scn"

vg 0 run-virtual "$RAFTSIM" run scenarios/split-brain.scn
vg 0 run-snapshot "$RAFTSIM" run scenarios/snapshot-catch-up.scn
vg 0 run-fast-detect "$RAFTSIM" run scenarios/fast-detect.scn
vg 0 run-real "$RAFTSIM" run --clock real "$tmp/small.scn"
vg 0 run-trace "$RAFTSIM" run --trace "$tmp/t.jsonl" scenarios/leader-crash.scn
vg 0 report "$RAFTSIM" report "$tmp/t.jsonl" -o "$tmp/t.html"
vg 0 explore "$RAFTSIM" explore --seeds 20 --jobs 1 --quiet
vg 0 explore-swarm "$RAFTSIM" explore --seeds 10 --jobs 1 --snapshot-every swarm --quiet
vg 1 explore-unsafe "$RAFTSIM" explore --seeds 50 --jobs 1 --unsafe vote-any --quiet --save "$tmp/repro.scn"
vg 0 shell sh -c "sed 1d $tmp/small.scn | $RAFTSIM shell"
vg 2 bad-flag "$RAFTSIM" run --clokc real scenarios/split-brain.scn
vg 2 bad-scenario "$RAFTSIM" run "$tmp/bad.scn"
vg 2 missing-file "$RAFTSIM" run "$tmp/nope.scn"
vg 2 bad-command "$RAFTSIM" frobnicate

echo "valgrind.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
