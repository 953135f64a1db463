#!/usr/bin/env bash
# tests/docs.sh — every command the project shows really runs.
#
# It collects each command line that starts with `build/raftsim`, `make`
# or `parallel` (GNU parallel running raftsim), after an optional `$ `
# prompt and VAR=value assignments (a trailing `\` joins the next line, a
# trailing `# comment` is dropped)
#   - from every fenced code block of README.md, and
#   - from every --help text (raftsim, each command, each bench and pg
#     subcommand: their "examples:" sections),
# runs each one once, bounded by a timeout, and fails on a usage error
# (exit 2), a crash (killed by a signal) or a command that does not finish
# within the bound.  Exit 0 and 1 both count as "it ran" (1 is how explore
# reports the violations an --unsafe example is there to show).
#
# Not run, each listed with its reason in the output:
#   - synopses: a line with [ ], ..., |, or a placeholder in capitals
#     (FILE, N, TRACE.jsonl) shows a form, not a command;
#   - a README block preceded by `<!-- docs.sh: skip: REASON -->` (an
#     intentional error example);
#   - make test and make asan (they run this script: recursion), make
#     check (make test has just run it), make clean (it would delete the
#     binary under test), make deps (installs packages; make has run it).
# Long commands run with a short override, listed in override() below and
# printed next to the command.  A `make` command fails here when a command
# in its recipe ended with a usage error or a crash ("Error 2", "Error 13x").  Commands that need PostgreSQL run with the
# lab pair of tools/pg-pair up (and taken down at the end); DOCS_PG=0
# skips them instead.  Commands run in a scratch directory whose build/,
# scenarios/ and tools/ point at the checkout, so that files they write
# (explore-seed26.scn, seed1.jsonl) do not land in the checkout; `make`
# runs at the top of the checkout.
#
# Usage: RAFTSIM=build/raftsim tests/docs.sh   (from make test, under
# flock /tmp/raftsim-pg.lock because of the PostgreSQL ports)
set -u
cd "$(dirname "$0")/.." || exit 2
repo=$PWD
bin_rel=${RAFTSIM:-build/raftsim}
bin=$(readlink -f "$bin_rel")
build_dir=$(dirname "$bin_rel")
LIMIT=${DOCS_LIMIT:-120}
DOCS_PG=${DOCS_PG:-1}
[ -x "$bin" ] || { echo "docs: no binary at $bin_rel (make first)"; exit 2; }
tmp=$(mktemp -d) || exit 2
pg_up=0
cleanup() {
    if [ "$pg_up" -eq 1 ]; then
        timeout 120 tools/pg-pair down >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/cwd" "$build_dir/bench"
# README's `raftsim node` example reads the key its previous line writes
# with head (not a raftsim command, so not run here)
[ -f "$build_dir/cluster.key" ] || head -c 32 /dev/urandom >"$build_dir/cluster.key"
ln -s "$repo/build" "$tmp/cwd/build"
ln -s "$repo/scenarios" "$tmp/cwd/scenarios"
ln -s "$repo/tools" "$tmp/cwd/tools"

# --- collecting ------------------------------------------------------------
# One "SOURCE<TAB>COMMAND" line per command, in the order shown.
cmd_re='^[[:space:]]*(\$ )?([A-Z_][A-Z0-9_]*=[^ ]* )*(build/raftsim|make|parallel)( |$)'
readme_cmds() {
    awk -v re="$cmd_re" '
        function flush() { if (cmd != "") print src "\t" cmd; cmd = "" }
        /^```/ {
            if (!inb) { inb = 1; skip = (prev ~ /<!-- docs\.sh: skip/); start = NR }
            else { flush(); inb = 0 }
            next
        }
        { if (!inb && $0 !~ /^[[:space:]]*$/) prev = $0 }
        !inb { next }
        skip { if ($0 ~ re) print "README.md:" NR "\tSKIP\t" $0; next }
        cont { cmd = cmd " " $0; cont = 0 }
        !cont && cmd == "" && $0 ~ re { cmd = $0; src = "README.md:" NR }
        cmd != "" {
            if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); cont = 1; next }
            flush()
        }
    ' README.md
}
help_cmds() {
    local args
    for args in "--help" "run --help" "explore --help" "bench --help" \
        "bench sim --help" "bench failover --help" "bench throughput --help" \
        "bench rss --help" "bench pg-failover --help" "pg --help" \
        "pg status --help" "pg health --help" "report --help" "version --help" \
        "explore-merge --help" "node --help"; do
        # shellcheck disable=SC2086
        "$bin_rel" $args 2>&1 | awk -v src="$bin_rel $args" -v re="$cmd_re" \
            -v me="$bin_rel" '
            { line = $0; if (index(line, me " ") || line ~ ("^[[:space:]]*" me "$")) {
                  sub("^[[:space:]]*", "", line)
                  line = "build/raftsim" substr(line, length(me) + 1) }
              if (line ~ re) { sub(/^[[:space:]]+/, "", line); print src "\t" line } }'
    done
}

# --- judging ---------------------------------------------------------------
# Why a command is not run, or "" to run it.
why_skip() {
    local c=$1
    case "$c" in
    *"["* | *"..."* | *"…"* | *" | "* | *"|"*) echo "synopsis (shows a form)"; return ;;
    esac
    if [[ " $c " =~ [\ =][A-Z][A-Z0-9_]*(\.[a-z]+)?[\ ,] ]]; then
        echo "synopsis (placeholder ${BASH_REMATCH[0]// /})"; return
    fi
    case "$c" in
    "make test"* | *" make test"*) echo "the suite that runs this script (recursion)" ;;
    "make asan"*) echo "make test again under sanitizers (runs this script: recursion)" ;;
    "make check"*) echo "make test has just run it (make test = check + the rest)" ;;
    "make clean"*) echo "would delete the binary under test" ;;
    "make deps"*) echo "installs packages; every make has already run it" ;;
    esac
}
needs_pg() {
    case "$1" in
    *" pg "* | *" pg" | *pg-failover* | *" --pg"* | *"bench health"* | *scenarios/pg/* | *--mirror* | "make bench"*) return 0 ;;
    esac
    return 1
}
# The short form of a long command (what runs instead, and why it is the
# same command): fewer trials, seeds and seconds; never a different path.
override() {
    local c=$1
    case "$c" in
    "make demo"*) c="$c DEMO_SCALE=2" ;;                      # 15 s -> 1.2 s
    "make bench"*) c="${c%%#*}"; c="${c%% }"
        c="$c BENCH_TRIALS=1 BENCH_FAST_TRIALS=1 BENCH_DURATION=1s BENCH_SNAP_DURATION=1s BENCH_HOLD=1s BENCH_RSS_NODES=20 BENCH_PG_TRIALS=1 BENCH_PG_DETECT_TRIALS=1 BENCH_PG_SWITCHOVER_TRIALS=1 BENCH_SWITCHOVER_TRIALS=3 BENCH_EXPLORE_TIME=100ms BENCH_EXPLORE_STARTS=0 BENCH_PROC_TRIALS=1 BENCH_PROC_RSS_NODES=5" ;;
    *"bench failover --processes"*) c=${c/--trials 20/--trials 2}; c=${c/--trials 10/--trials 2} ;;
    *"bench rss --processes --nodes 101"*) c=${c/--nodes 101/--nodes 5}; c=${c/--hold 5s/--hold 1s}
        c=${c/--hold 10s/--hold 1s} ;;
    *"explore --transport tcp"*) c=${c/--seeds 20/--seeds 1}; c=${c/--duration 3s/--duration 1s} ;;
    *"--unsafe commit-old-term"*) c=${c/--seeds 2000/--seeds 100} ;; # 25 s + shrinking
    *"bench failover"*) c=${c/--trials 100/--trials 1}     # 7 ranges x 1 trial
        c=${c/--trials 20 --csv/--trials 1 --csv}             # make bench's
        c=${c/--trials 30/--trials 2} ;;                      # x 2 crash kinds
    *"bench switchover --pg"*) c=${c/--trials 20/--trials 1} ;;
    *"bench switchover"*) c=${c/--trials 50/--trials 3}     # 50 -> 3
        [[ $c == *--trials* ]] || c="$c --trials 3" ;;
    *"bench throughput"*) c=${c/--duration 5s/--duration 1s}
        c=${c/--duration 60s/--duration 1s} ;;
    *"bench rss"*) c=${c/--nodes 100/--nodes 20}           # 9900 connections
        c=${c/--hold 10s/--hold 1s}
        [[ $c == *--hold* ]] || c="$c --hold 1s" ;;           # default 10 s
    *"bench pg-failover --detect"*) c=${c/--trials 20/--trials 1}; c=${c/--trials 10/--trials 1} ;;
    *"bench pg-failover"*) c=${c/--trials 10/--trials 1} ;;
    *"bench explore"*) c=${c/--starts 10/--starts 0}        # 10 windows: minutes
        c=${c/--seconds 1s/--seconds 100ms}; c=${c/--seconds 2s/--seconds 100ms} ;;
    # a server that runs until Ctrl-C: 3 s, then the Ctrl-C (it exits 0)
    *"raftsim serve"*) c="timeout --preserve-status -s INT 3 $c" ;;
    esac
    printf '%s' "$c"
}

pass=0 fail=0 skipped=0
declare -A seen
run_one() { # source command
    local src=$1 c=$2 shown why
    c=$(sed -E 's/^[[:space:]]*(\$ )?//; s/[[:space:]]+#[[:space:]].*$//; s/[[:space:]]+$//' <<<"$c")
    [ -n "${seen[$c]:-}" ] && return
    seen[$c]=1
    why=$(why_skip "$c")
    if [ -n "$why" ]; then
        echo "docs: skip  $c   [$src: $why]"
        skipped=$((skipped + 1)); return
    fi
    if needs_pg "$c"; then
        if [ "$DOCS_PG" != 1 ]; then
            echo "docs: skip  $c   [$src: needs PostgreSQL; DOCS_PG=0]"
            skipped=$((skipped + 1)); return
        fi
        if ! timeout 180 tools/pg-pair up >"$tmp/pg.log" 2>&1; then
            echo "docs: FAIL  $c   [$src: tools/pg-pair up failed]"
            sed 's/^/    /' "$tmp/pg.log" | tail -5
            fail=$((fail + 1)); return
        fi
        pg_up=1
    fi
    shown=$(override "$c")
    local note=""
    [ "$shown" != "$c" ] && note=" (shortened: $shown)"
    local dir=$tmp/cwd run=$shown
    if [[ $run =~ ^([A-Z_][A-Z0-9_]*=[^ ]*\ )*make( |$) ]]; then
        dir=$repo
        [ "$build_dir" != build ] && run="$run BUILD=$build_dir"
    else
        run=${run/build\/raftsim/$bin}
    fi
    local t0 t1 rc limit=$LIMIT
    # make bench, even shortened, is every benchmark in a row (PostgreSQL's
    # included): five minutes of bound
    case "$c" in "make bench"*) limit=$((LIMIT * 5 / 2)) ;; esac
    t0=$(date +%s.%N)
    (cd "$dir" && timeout --preserve-status -s INT -k 10 "$limit" \
        bash -c "$run" </dev/null >"$tmp/out" 2>&1)
    rc=$?
    t1=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    # make says 2 for any failed recipe: what counts is how the command in
    # it ended ("Error 2": a usage error; "Error 1": a run that reported a
    # problem, as exit 1 does outside make)
    if [ "$dir" = "$repo" ] && [ "$rc" -eq 2 ] &&
        ! grep -Eq '\] Error (2|1[2-9][0-9])$' "$tmp/out"; then
        rc=1
    fi
    if [ "$rc" -eq 2 ] || [ "$rc" -ge 126 ]; then
        local what="exit $rc"
        [ "$rc" -eq 2 ] && what="usage error (exit 2)"
        [ "$rc" -eq 130 ] && what="did not finish within ${limit}s"
        [ "$rc" -gt 130 ] && what="killed by signal $((rc - 128))"
        echo "docs: FAIL  $c$note   [$src: $what after ${secs}s]"
        sed 's/^/    /' "$tmp/out" | tail -15
        fail=$((fail + 1))
    else
        echo "docs: ok    $c$note   [$src: exit $rc, ${secs}s]"
        pass=$((pass + 1))
    fi
}

{ readme_cmds; help_cmds; } >"$tmp/list"
while IFS=$'\t' read -r src c rest; do
    if [ "$c" = SKIP ]; then
        c=${rest#\$ }
        c=$(sed -E 's/[[:space:]]+#[[:space:]].*$//' <<<"$c")
        [ -n "${seen[$c]:-}" ] && continue
        seen[$c]=1
        reason=$(awk -v n="${src#README.md:}" 'NR < n && /<!-- docs\.sh: skip/ { r = $0 }
            END { print r }' README.md | sed -E 's/.*docs\.sh: skip:? *//; s/ *-->.*//')
        echo "docs: skip  $c   [$src: marked in README: $reason]"
        skipped=$((skipped + 1))
        continue
    fi
    run_one "$src" "$c"
done <"$tmp/list"
echo "docs: $pass ran, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
