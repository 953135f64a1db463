# tests/pg-lib.sh — shared by the PostgreSQL tests (sourced, not run).
#
# pick_port_base N: export RAFTSIM_PG_PORT_BASE, a base port with N free
# ports after it (nothing listening on 127.0.0.1 there), unless the caller
# set one.  Random in 20000..44999 so two runs on one machine do not meet;
# with a base given, fails when one of its ports is taken.
pick_port_base() {
    local n=$1 try b k busy
    listening() { ss -Hltn 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$1\$"; }
    if [ -n "${RAFTSIM_PG_PORT_BASE:-}" ]; then
        for ((k = 0; k < n; k++)); do
            if listening $((RAFTSIM_PG_PORT_BASE + k)); then
                echo "${0##*/}: something already listens on 127.0.0.1:$((RAFTSIM_PG_PORT_BASE + k)) (RAFTSIM_PG_PORT_BASE=$RAFTSIM_PG_PORT_BASE; is a pair up? tools/pg-pair down)" >&2
                return 1
            fi
        done
        return 0
    fi
    for try in $(seq 1 50); do
        b=$((20000 + (RANDOM * 32768 + RANDOM) % 25000))
        busy=0
        for ((k = 0; k < n; k++)); do
            listening $((b + k)) && busy=1
        done
        if [ "$busy" = 0 ]; then
            export RAFTSIM_PG_PORT_BASE=$b
            return 0
        fi
    done
    echo "${0##*/}: no free port base found in 50 tries" >&2
    return 1
}
