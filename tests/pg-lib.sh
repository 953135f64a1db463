# tests/pg-lib.sh — shared by the PostgreSQL tests (sourced, not run).
#
# pick_port_base N: export RAFTSIM_PG_PORT_BASE, a base port with N free
# ports after it (nothing listening on 127.0.0.1 there), unless the caller
# set one.  Random in 20000 up to the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768 by default) so two runs on one
# machine do not meet, and no outgoing connection's local port takes a
# server's (seen: "could not bind … Address already in use" on a base in
# 41000-43999 with several suites running); with a base given, fails when
# one of its ports is taken.
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
    local low span
    low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [[ $low =~ ^[0-9]+$ ]] && [ "$low" -gt $((20000 + n + 100)) ] || low=32768
    span=$((low - 20000 - n))
    for try in $(seq 1 50); do
        b=$((20000 + (RANDOM * 32768 + RANDOM) % span))
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
