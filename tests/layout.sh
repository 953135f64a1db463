#!/usr/bin/env bash
# layout.sh — the folders of sim/ call one way (README, "Layout"): each
# folder may include only the folders listed for it here, raft/ includes
# nothing of net/ or sim/, net/ nothing of sim/, and sim/ holds only
# folders.  Fails naming the file and the include that breaks the rule.
set -u
cd "$(dirname "$0")/.."
declare -A may=(
    [util]=""
    [scenario]="util"
    [cluster]="util"
    [pg]="util"
    [report]=""
    [runner]="util scenario cluster pg"
    [bench]="util cluster pg"
    [live]="util scenario cluster report runner"
    [cli]="util scenario cluster pg report runner bench live"
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
[ $fail = 0 ] && echo "layout: 1 passed, 0 failed" || echo "layout: 0 passed, 1 failed"
exit $fail
