# Sourced by scripts/bench-http.sh and scripts/bench-asgi.sh: the wrk set-up both share.
# Before sourcing, set NAME (for messages) and SERVE (the command that serves a mode: it is run
# as "${SERVE[@]}" MODE, prints its port on its first line and optionally its pid on the second,
# and stops when its standard input closes). Provides:
#   start MODE                 a server in the background (pinned to core 0); sets PORT and PID
#   wrk_round MODE PORT PID N  round N: wrk -t1 (pinned to core 1) with the signed requests of
#                              $WORK/signed.txt over $CONNECTIONS connections for $DURATION s,
#                              and the server's CPU time (from /proc, when PID is given)
#   $WORK                      a temporary directory, removed (and every server stopped) on exit
# wrk is installed from Debian when missing.

if ! command -v wrk > /dev/null 2>&1; then
    if ! command -v apt-get > /dev/null 2>&1; then
        echo "$NAME: wrk is missing and apt-get is not available" >&2
        exit 1
    fi
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "$NAME: installing wrk" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-cache show wrk > /dev/null 2>&1 || $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends wrk > /dev/null
fi

WORK=$(mktemp -d)
PIDS=()
FDS=()
cleanup() {
    for fd in "${FDS[@]}"; do eval "exec ${fd}>&-"; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Pin the server and wrk to different cores where taskset and two cores are there.
SERVER_CPU=() CLIENT_CPU=()
if command -v taskset > /dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    SERVER_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1)
fi

# start MODE: a server in the background; sets PORT (and PID when the server prints it). It
# stops when its stdin (a fifo held open here) closes, or after 15 minutes whatever happens.
start() {
    local mode=$1 fd
    mkfifo "$WORK/$mode.stop"
    timeout 900 "${SERVER_CPU[@]}" "${SERVE[@]}" "$mode" < "$WORK/$mode.stop" > "$WORK/$mode.port" &
    PIDS+=($!)
    exec {fd}> "$WORK/$mode.stop"
    FDS+=("$fd")
    for _ in $(seq 100); do
        [ -s "$WORK/$mode.port" ] && break
        sleep 0.1
    done
    PORT=$(head -1 "$WORK/$mode.port")
    PID=$(sed -n 2p "$WORK/$mode.port")
}

# The CPU time a process has used, in clock ticks (user + system; Linux): what a request costs
# the server, steadier than wall time when the machine is busy.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk_round MODE PORT PID ROUND: one round of wrk against the server on PORT (whose pid is PID,
# or empty), its report into $WORK/MODE.ROUND.txt and the server's CPU ticks into .cpu.
wrk_round() {
    local before=""
    [ -n "$3" ] && [ -r "/proc/$3/stat" ] && before=$(cpu_ticks "$3")
    "${CLIENT_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/http/aevo.lua \
        "http://127.0.0.1:$2/orders" -- "$WORK/signed.txt" > "$WORK/$1.$4.txt"
    if [ -n "$before" ]; then
        echo "$(($(cpu_ticks "$3") - before)) $(getconf CLK_TCK)" > "$WORK/$1.$4.cpu"
    fi
}
