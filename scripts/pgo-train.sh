#!/usr/bin/env bash
# The training workload of the profile-guided build (scripts/build.sh): runs
# the instrumented mqtt-broker in BIN_DIR on a loopback TLS port with a
# development certificate and password authentication, drives it with
# mqtt-bench (p2p QoS 0, 1 and 2, fan-out, fan-in; about 30 s), and stops it
# with SIGTERM so that it writes its profile (where it was built to:
# cmake/pgo.cmake). mqtt-bench and mqtt-passwd write theirs to a throwaway
# directory: the profile is the broker's alone. Exits non-zero when a step
# fails or the broker did not exit cleanly.
#
#   scripts/pgo-train.sh BIN_DIR
set -euo pipefail

if (($# != 1)); then
    echo "usage: $0 BIN_DIR" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$(cd "$1" && pwd)"
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
# The tools' profiles go under this prefix (GCOV_PREFIX), the broker's where
# it was built to write it (env -u below). bench_setup's exit trap calls
# bench_cleanup: wrapped here so that it removes them too.
tool_profiles="$(mktemp -d /tmp/pgo-train-tools-XXXXXX)"
export GCOV_PREFIX="$tool_profiles"
eval "$(declare -f bench_cleanup | sed '1s/bench_cleanup/bench_cleanup_base/')"
bench_cleanup() {
    bench_cleanup_base
    rm -rf "$tool_profiles"
}
trap bench_cleanup EXIT
bench_setup pgo-train

port="$(free_port)"
env -u GCOV_PREFIX "$bin/mqtt-broker" --listen "tls://127.0.0.1:$port" \
    --tls-cert "$work/server.crt" --tls-key "$work/server.key" --password-file "$work/passwd" \
    --stats none --sys-interval 0 --log-level warn >"$work/broker.log" 2>&1 &
broker_pid=$!
wait_listening "$port"

run() {
    "$bin/mqtt-bench" --url "mqtts://127.0.0.1:$port" --cafile "$work/ca.crt" -u bench -P benchpw \
        --payload 64 --warmup 1 --drain 1 --connect-rate 500 --connect-timeout 30 "$@" >/dev/null || {
        echo "pgo-train: mqtt-bench $* failed; broker log:" >&2
        tail -n 20 "$work/broker.log" >&2
        exit 1
    }
}
run --scenario p2p --publishers 200 --subscribers 200 --qos 1 --rate 20 --duration 5
run --scenario p2p --publishers 200 --subscribers 200 --qos 0 --rate 20 --duration 3
run --scenario p2p --publishers 100 --subscribers 100 --qos 2 --rate 10 --duration 2
run --scenario fanout --publishers 1 --subscribers 200 --qos 0 --rate 50 --duration 2
run --scenario fanin --publishers 200 --subscribers 1 --qos 1 --rate 10 --duration 2

kill -TERM "$broker_pid"
status=0
wait "$broker_pid" || status=$?
broker_pid=""
if ((status != 0)); then
    echo "pgo-train: mqtt-broker exited with $status; its log:" >&2
    tail -n 20 "$work/broker.log" >&2
    exit 1
fi
