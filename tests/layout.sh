#!/usr/bin/env bash
# layout.sh — the folders of sim/ call one way (README, "Layout"): each
# folder may include only the folders listed for it here, raft/ includes
# nothing of net/ or sim/, net/ nothing of sim/, and sim/ holds only
# folders.  Fails naming the file and the include that breaks the rule.
# Also: no tracked file names the maintainers' shared/ folder beside the
# checkout (the path up one level, spelled in $outside below so that this
# file does not name it either): a user's clone does not have it (cite
# public sources instead, README section 4); fails naming each such file.
set -u
cd "$(dirname "$0")/.."
declare -A may=(
    [util]=""
    [scenario]="util"
    [cluster]="util"
    [node]="util"
    [pg]="util"
    [report]=""
    [runner]="util scenario cluster pg"
    [bench]="util scenario cluster pg runner"
    [live]="util scenario cluster report runner"
    [cli]="util scenario cluster node pg report runner bench live"
)
fail=0
for d in sim/*; do
    [ -d "$d" ] || { echo "layout: $d is a file; sim/ holds only folders"; fail=1; continue; }
    name=${d#sim/}
    [ -n "${may[$name]+x}" ] || { echo "layout: sim/$name is not in the layering table of tests/layout.sh"; fail=1; continue; }
    while IFS=: read -r file inc; do
        [ -n "$file" ] || continue
        [ "$inc" = "$name" ] && continue
        case " ${may[$name]} " in *" $inc "*) ;; *)
            echo "layout: $file includes sim/$inc/, above or beside sim/$name/"; fail=1 ;;
        esac
    done < <(grep -o '#include "sim/[a-z_]*/' "$d"/*.[ch] 2>/dev/null |
             sed 's|#include "sim/||; s|/$||')
done
if grep -l '#include "\(net\|sim\)/' raft/*.[ch] 2>/dev/null; then
    echo "layout: raft/ includes net/ or sim/"; fail=1
fi
if grep -l '#include "sim/' net/*.[ch] 2>/dev/null; then
    echo "layout: net/ includes sim/"; fail=1
fi
layering_fail=$fail

# Outside a git checkout (an exported tarball) every file counts as tracked.
shared_fail=0
outside="..""/""shared"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    hits=$(git grep -l -F -e "$outside" -- .)
else
    hits=$(grep -rlF --exclude-dir=build --exclude-dir=.git -e "$outside" . |
           sed 's|^\./||')
fi
while IFS= read -r f; do
    [ -n "$f" ] || continue
    echo "layout: $f names $outside, which a clone of this repository does not have"
    shared_fail=1
done <<< "$hits"

passed=$(( (1 - layering_fail) + (1 - shared_fail) ))
failed=$(( layering_fail + shared_fail ))
echo "layout: $passed passed, $failed failed"
[ $failed = 0 ]
