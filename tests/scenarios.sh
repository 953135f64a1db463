#!/bin/sh
# Every scenario in scenarios/ must pass, first under the virtual clock
# (deterministic, instant), then under the real clock (nodes over loopback
# TCP in real time, JOBS files at a time, each bounded by LIMIT seconds),
# then under the processes clock (the same, one `raftsim node` process per
# node; a crash is SIGKILL).  CLOCKS names the ones to run (make check:
# virtual; make test: all three).  After the processes clock no
# `raftsim node` process of this run may be left.
# Usage: RAFTSIM=build/raftsim [CLOCKS="virtual real processes"] tests/scenarios.sh [FILE...]
RAFTSIM=${RAFTSIM:-build/raftsim}
JOBS=${JOBS:-4}
LIMIT=${LIMIT:-120}
CLOCKS=${CLOCKS:-virtual real processes}
for c in $CLOCKS; do
    case $c in virtual | real | processes) ;; *)
        echo "scenarios: CLOCKS must name virtual, real and/or processes, not '$CLOCKS'" >&2
        exit 2 ;;
    esac
done
want() { case " $CLOCKS " in *" $1 "*) return 0 ;; esac; return 1; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
if [ $# -gt 0 ]; then files="$*"; else files=$(ls scenarios/*.scn); fi

run_one() { # clock file out
    timeout "$LIMIT" "$RAFTSIM" run --quiet --color never --clock "$1" "$2" \
        >"$3" 2>&1
}

fail=0
n=0
want virtual && for f in $files; do
    n=$((n + 1))
    if ! run_one virtual "$f" "$tmp/out"; then
        echo "scenarios: FAIL (virtual clock) $f"
        sed 's/^/    /' "$tmp/out"
        fail=$((fail + 1))
    fi
done
want virtual && echo "scenarios: $n files under the virtual clock, $fail failed"
tfail=0
for clock in real processes; do
want $clock || continue
before=$(pgrep -c -f '^raftsim node --control-fd' || true)
n=0
for f in $files; do n=$((n + 1)); done

# Real time (real, processes): a file that fails is run once more and both
# outputs are shown, so one scheduling hiccup on a loaded machine does not
# fail CI but is never hidden either.
real() { # clock file index
    out="$tmp/$1.$3"
    if run_one "$1" "$2" "$out"; then
        echo ok >"$out.status"
        return
    fi
    mv "$out" "$out.first"
    if run_one "$1" "$2" "$out"; then
        echo retried >"$out.status"
    else
        echo failed >"$out.status"
    fi
}
i=0
for f in $files; do
    i=$((i + 1))
    # split-vote.scn needs three election timers to fire within one 5 ms
    # link latency of each other, round after round, for 2 s: one loop in
    # one process keeps them aligned, three processes on a loaded machine
    # drift apart by scheduling delays (README section 6, "Timing").  Said,
    # not run, under the processes clock.
    if [ "$clock" = processes ] && [ "${f##*/}" = split-vote.scn ]; then
        echo "scenarios: skip (processes clock) $f: its three timers must stay within 5 ms of each other, which separate processes cannot promise"
        echo ok >"$tmp/$clock.$i.status"
        continue
    fi
    real "$clock" "$f" "$i" &
    if [ $((i % JOBS)) -eq 0 ]; then wait; fi
done
wait
rfail=0
i=0
for f in $files; do
    i=$((i + 1))
    st=$(cat "$tmp/$clock.$i.status" 2>/dev/null || echo failed)
    case $st in
    ok) ;;
    retried)
        echo "scenarios: $f passed under the $clock clock on its second run; first run:"
        sed 's/^/    /' "$tmp/$clock.$i.first"
        ;;
    *)
        echo "scenarios: FAIL ($clock clock) $f"
        for o in "$tmp/$clock.$i.first" "$tmp/$clock.$i"; do
            [ -f "$o" ] && sed 's/^/    /' "$o"
        done
        rfail=$((rfail + 1))
        ;;
    esac
done
echo "scenarios: $n files under the $clock clock, $rfail failed"
if [ $clock = processes ]; then
    # every node process dies with its run (SIGKILL, PDEATHSIG, reaped)
    sleep 1
    after=$(pgrep -c -f '^raftsim node --control-fd' || true)
    if [ "${after:-0}" -gt "${before:-0}" ]; then
        echo "scenarios: FAIL $((after - before)) raftsim node process(es) outlived their runs"
        rfail=$((rfail + 1))
    fi
fi
tfail=$((tfail + rfail))
done
[ $fail -eq 0 ] && [ $tfail -eq 0 ]
