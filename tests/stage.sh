#!/usr/bin/env bash
# tests/stage.sh — one stage of `make test`, timed (the Makefile's test
# target runs every stage through it):
#   tests/stage.sh FILE --start            empty FILE (a new run)
#   tests/stage.sh FILE NAME CMD [ARG...]  run CMD; append "NAME SECONDS"
#                                          (or "NAME SECONDS FAILED") to FILE
#   tests/stage.sh FILE --summary          print the one-line summary
# A stage that fails prints the summary so far, then exits with its status,
# so the times of a failed run are not lost either.
set -u
file=$1
shift
# The first line of FILE is "start EPOCH" (the wall clock: the Makefile
# runs some stages side by side, so their sum is more than the wall time).
summary() {
    awk -v now="$(date +%s)" '
         $1 == "start" { t0 = $2; next }
         { t += $2; s = s sep $1 " " $2 " s" ($3 ? " (" $3 ")" : ""); sep = ", " }
         END { printf "test stages: %s; stages %d s", s, t
               if (t0) printf ", wall %d s", now - t0
               printf "\n" }' "$file"
}
case "${1:-}" in
--start) mkdir -p "$(dirname "$file")" && echo "start $(date +%s)" >"$file"; exit ;;
--summary) summary; exit ;;
esac
name=$1
shift
t0=$(date +%s)
"$@"
rc=$?
dt=$(($(date +%s) - t0))
if [ "$rc" -eq 0 ]; then
    echo "$name $dt" >>"$file"
    echo "stage $name: $dt s"
else
    echo "$name $dt FAILED" >>"$file"
    echo "stage $name: FAILED (exit $rc) after $dt s"
    summary
fi
exit "$rc"
