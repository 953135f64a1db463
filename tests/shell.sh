#!/usr/bin/env bash
# shell.sh — `raftsim shell` fed by a pipe: a scripted live session gives
# the trace of the scenario file with the same lines (event for event; the
# session's own line numbers and the `at T` of its records aside), its
# export replays to the very same bytes, and a bad line is refused with the
# parser's message and a non-zero exit while the good ones still run.
set -u
RAFTSIM=${RAFTSIM:-build/raftsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "shell.sh: FAIL: $*"; fail=$((fail + 1)); }
norm() { sed -e 's/"line":[0-9]*,//' -e 's/"text":"at [0-9]*us /"text":"/' "$1"; }

cat >"$tmp/lines" <<'LINES'
await leader as L within 3s
write alice x=1 expect committed
crash L
await leader as M within 3s
write bob y=2 via M expect committed
cut M -> L
restart L
wait 400ms
heal
await caught-up L within 3s
read carol y from any expect 2
expect no violations
LINES
{ echo "nodes 3"; cat "$tmp/lines"; } >"$tmp/same.scn"

timeout 30 "$RAFTSIM" shell --trace "$tmp/shell.jsonl" --export "$tmp/export.scn" \
    <"$tmp/lines" >"$tmp/shell.out" 2>&1 && ok || bad "shell exited $? ($(tail -3 "$tmp/shell.out"))"
timeout 30 "$RAFTSIM" run --trace "$tmp/run.jsonl" "$tmp/same.scn" >"$tmp/run.out" 2>&1 \
    && ok || bad "run of the same lines exited $?"
if [ -s "$tmp/shell.jsonl" ] && cmp -s <(norm "$tmp/shell.jsonl") <(norm "$tmp/run.jsonl"); then ok
else bad "the shell's trace differs from run's ($(wc -l <"$tmp/shell.jsonl") vs $(wc -l <"$tmp/run.jsonl") lines)"; fi
timeout 30 "$RAFTSIM" run --keep-going --trace "$tmp/replay.jsonl" "$tmp/export.scn" \
    >"$tmp/replay.out" 2>&1 && ok || bad "the export does not replay: $(tail -2 "$tmp/replay.out")"
cmp -s "$tmp/shell.jsonl" "$tmp/replay.jsonl" && ok || bad "the export's replay is not byte-identical"
grep -q "passed — 4/4 expectations held" "$tmp/shell.out" && ok || bad "no summary: $(tail -2 "$tmp/shell.out")"

# a bad line: the parser's message, the others still run, exit 1
printf 'await leader within 3s\ncrsh n1\ncrash n1\n:speed 1000\n' >"$tmp/bad"
timeout 30 "$RAFTSIM" shell <"$tmp/bad" >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
[ $rc = 1 ] && ok || bad "a refused line must exit 1, got $rc"
grep -q "act:1:1: error: unknown command 'crsh'; did you mean 'crash'?" "$tmp/bad.err" && ok \
    || bad "no parser message: $(cat "$tmp/bad.err")"
grep -q "speed: expected a number from 0.01 to 100" "$tmp/bad.err" && ok || bad "bad control not refused"
grep -q "n1   crashes" "$tmp/bad.out" && ok || bad "the good line after the bad one did not run"

# help, and errors of the command line
"$RAFTSIM" shell --help | grep -q "usage: .* shell" && ok || bad "shell --help"
"$RAFTSIM" serve --help | grep -q "usage: .* serve" && ok || bad "serve --help"
"$RAFTSIM" serve --listen nowhere </dev/null >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && grep -q "bad value 'nowhere' for --listen" "$tmp/e" && ok || bad "serve --listen nowhere: rc $rc $(cat "$tmp/e")"
"$RAFTSIM" shell scenarios/nope.scn </dev/null >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && ok || bad "shell on a missing file: rc $rc"

echo 'crash n1' | "$RAFTSIM" shell --export /dev/null >/dev/null 2>"$tmp/e"; rc=$?
[ $rc = 2 ] && grep -q "/dev/null is a character device" "$tmp/e" && [ -c /dev/null ] && ok \
    || bad "shell --export onto a device: rc $rc $(cat "$tmp/e")"

echo "shell: $pass passed, $fail failed"
[ $fail = 0 ]
