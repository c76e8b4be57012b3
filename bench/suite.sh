#!/usr/bin/env bash
# The side-by-side benchmark suite: our mqtt-broker, our local cluster (2 mqtt-frontend +
# mqtt-router) and Mosquitto 2, alternating rounds on this machine, loopback only, TLS +
# password everywhere (or --transport tcp). Writes raw JSON per run under
# bench/results/<timestamp>/ and the report docs/benchmarks.md with PNG plots.
# bench/README.md explains the scenarios and the ratios; --help lists the options.
#
#   bench/suite.sh [--rounds N] [--only NAME[,NAME]] [--transport tls|tcp] [--routers 1|2]
#   bench/suite.sh --smoke      # every scenario tiny, 1 round, for CI (non-zero on failure)
#
# The work is in bench/suite.py (Debian's /usr/bin/python3); this wrapper raises the
# open-files limit, checks the binaries and stops the suite (which stops everything it
# started) when interrupted.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${MQTT_BIN_DIR:-$root/build/bin}"
export MQTT_BIN_DIR="$bin"

for arg in "$@"; do
    case "$arg" in -h | --help | --list) exec /usr/bin/python3 "$root/bench/suite.py" "$@" ;; esac
done
for b in mqtt-broker mqtt-router mqtt-frontend mqtt-bench mqtt-passwd; do
    [[ -x "$bin/$b" ]] || { echo "suite: $bin/$b missing (scripts/build.sh, or set MQTT_BIN_DIR)" >&2; exit 2; }
done
for b in /usr/sbin/mosquitto mosquitto_passwd openssl; do
    command -v "$b" >/dev/null || { echo "suite: $b missing (apt-get install mosquitto openssl)" >&2; exit 2; }
done
command -v gnuplot >/dev/null || echo "suite: gnuplot missing (apt-get install gnuplot-nox): no plots" >&2

# Idle-connection storms need many descriptors: as many as the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

suite_pid=""
stop_suite() {
    trap - INT TERM
    [[ -n "$suite_pid" ]] && kill -TERM "$suite_pid" 2>/dev/null
    [[ -n "$suite_pid" ]] && wait "$suite_pid" 2>/dev/null
    exit 130
}
trap stop_suite INT TERM
/usr/bin/python3 "$root/bench/suite.py" "$@" &
suite_pid=$!
set +e
wait "$suite_pid"
rc=$?
# wait returns early (> 128) when a trapped signal arrives; the trap then exits.
exit "$rc"
