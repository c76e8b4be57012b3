#!/usr/bin/env bash
# Smoke test of the Docker deployment (deploy/): builds the images, starts
# deploy/docker-compose.yml under a project name of its own with 2 frontends
# behind HAProxy, and checks from the host, with mosquitto_sub/pub over TLS
# through the load balancer's port (published on 127.0.0.1 only), that
#   1. delivery: a message published by one client reaches two subscribers;
#   2. cross-frontend: those three connections were spread over both
#      frontends, so the router carried the message from one to the other;
#   3. spread: of SMOKE_CONNECTIONS further connections, each frontend got at
#      least 2 (read from each frontend container's log at debug level).
# The stack is always torn down (trap), every wait is bounded, each phase is
# timed. Exit status 0 when every check passed. Prints "N passed, N failed".
#
# Phases: host (deploy/docker-host.sh: packages, dockerd, base image),
# binaries (scripts/build.sh), images, data, up, ready, checks, down.
#
# Environment:
#   SMOKE_PORT          host port of the load balancer (default: a free one)
#   SMOKE_PROJECT       compose project name (default: mqttsmoke<pid>)
#   SMOKE_CONNECTIONS   connections of check 3 (default 8)
#   SMOKE_FROM_SOURCE=1 build the image with --target runtime-from-source
#                       (compiles in Docker) instead of reusing build/bin
#   SMOKE_KEEP_LOGS=DIR copy the compose logs to DIR
#   BUILD_DIR           host build directory, as for scripts/build.sh: build
#                       (default) or build-docker (the two /.dockerignore lets in)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

frontends=2
project="${SMOKE_PROJECT:-mqttsmoke$$}"
connections="${SMOKE_CONNECTIONS:-8}"
build_dir="$(realpath -m "${BUILD_DIR:-$root/build}")"
if [[ "$build_dir" != "$root/build" && "$build_dir" != "$root/build-docker" ]]; then
    echo "docker-smoke: BUILD_DIR must be $root/build or $root/build-docker (/.dockerignore)" >&2
    exit 2
fi
tag="latest"
target="runtime"
[[ "${SMOKE_FROM_SOURCE:-0}" == 1 ]] && target="runtime-from-source"

work="$(mktemp -d /tmp/docker-smoke.XXXXXX)"
compose=(timeout 300 docker-compose -p "$project" -f "$root/deploy/docker-compose.yml")
stack_started=0
passed=0
failed=0

# ---- timing --------------------------------------------------------------
phase_names=()
phase_secs=()
phase_name=""
phase_start=0
now() { date +%s.%N; }
begin() {
    phase_name="$1"
    phase_start="$(now)"
    echo "docker-smoke: --- $1"
}
end() {
    phase_names+=("$phase_name")
    phase_secs+=("$(awk -v a="$phase_start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')")
    phase_name=""
}
total_start="$(now)"
print_timings() {
    echo "docker-smoke: timings (seconds)"
    local i
    for i in "${!phase_names[@]}"; do
        printf '  %-10s %6s\n' "${phase_names[$i]}" "${phase_secs[$i]}"
    done
    printf '  %-10s %6s\n' total "$(awk -v a="$total_start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')"
}

# ---- checks --------------------------------------------------------------
pass() {
    echo "docker-smoke: PASS $*"
    passed=$((passed + 1))
}
fail() {
    echo "docker-smoke: FAIL $*" >&2
    failed=$((failed + 1))
}

# ---- teardown, always ----------------------------------------------------
finish() {
    local status=$?
    set +e
    trap '' INT TERM  # the teardown runs to its end
    [[ -n "$phase_name" ]] && end  # the phase that was cut short
    if ((stack_started)); then
        "${compose[@]}" logs --no-color >"$work/compose.log" 2>&1
        if ((failed > 0 || status != 0)); then
            echo "docker-smoke: last lines of the compose logs:" >&2
            tail -n 60 "$work/compose.log" >&2
        fi
        if [[ -n "${SMOKE_KEEP_LOGS:-}" ]]; then
            mkdir -p "$SMOKE_KEEP_LOGS" && cp "$work/compose.log" "$SMOKE_KEEP_LOGS/"
        fi
        begin down
        "${compose[@]}" down --volumes --remove-orphans --timeout 10 >"$work/down.log" 2>&1 ||
            { echo "docker-smoke: compose down failed:" >&2; cat "$work/down.log" >&2; }
        end
    fi
    rm -rf "$work"
    print_timings
    if ((status != 0 && failed == 0)); then
        failed=1  # stopped by an error before the checks ran
    fi
    echo "docker-smoke: $passed passed, $failed failed"
    if ((failed > 0)); then exit 1; fi
    exit 0
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- phases --------------------------------------------------------------
begin host
deploy/docker-host.sh
end

begin binaries
if [[ "$target" == runtime ]]; then
    BUILD_DIR="$build_dir" scripts/build.sh --target mqtt-broker mqtt-frontend mqtt-router mqtt-passwd \
        >"$work/build.log" 2>&1 || {
        tail -n 40 "$work/build.log" >&2
        exit 1
    }
else
    echo "docker-smoke: SMOKE_FROM_SOURCE=1: the image compiles the binaries"
fi
end

begin images
export IOT_MQTT_TAG="$tag" IOT_MQTT_TARGET="$target" IOT_MQTT_BINARIES="${build_dir#"$root"/}/bin"
timeout 1800 docker build --network host -f deploy/Dockerfile --target "$target" \
    --build-arg "BINARIES=$IOT_MQTT_BINARIES" -t "iot-mqtt-server:$tag" . >"$work/image.log" 2>&1 || {
    tail -n 40 "$work/image.log" >&2
    exit 1
}
timeout 600 docker build --network host -t "iot-mqtt-haproxy:$tag" deploy/haproxy >"$work/haproxy.log" 2>&1 || {
    tail -n 40 "$work/haproxy.log" >&2
    exit 1
}
end

begin data
export IOT_MQTT_DATA="$work/data"
deploy/make-data.sh "$IOT_MQTT_DATA"
password="$(<"$IOT_MQTT_DATA/dev-password")"
cafile="$IOT_MQTT_DATA/ca.crt"
end

begin up
port="${SMOKE_PORT:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
export IOT_MQTT_ADDRESS=127.0.0.1 IOT_MQTT_PORT="$port" MQTT_LOG_LEVEL=debug
echo "docker-smoke: project $project, load balancer on 127.0.0.1:$port, $frontends frontends"
stack_started=1
"${compose[@]}" up -d --no-build --scale "frontend=$frontends" >"$work/up.log" 2>&1 || {
    cat "$work/up.log" >&2
    exit 1
}
mapfile -t frontend_ids < <("${compose[@]}" ps -q frontend)
if ((${#frontend_ids[@]} != frontends)); then
    echo "docker-smoke: expected $frontends frontend containers, got ${#frontend_ids[@]}" >&2
    exit 1
fi
end

# Clients: every connection goes through the load balancer with TLS.
client_args=(-h 127.0.0.1 -p "$port" --cafile "$cafile" -u dev -P "$password")
publish() {  # TOPIC MESSAGE [mosquitto_pub options]
    local topic="$1" message="$2"
    shift 2
    timeout 10 mosquitto_pub "${client_args[@]}" -q 1 -t "$topic" -m "$message" "$@"
}
# Sessions each frontend ended on a client's DISCONNECT (its debug log says
# "closing: client disconnected"); HAProxy's TCP health checks never get that far.
counts() {
    local id
    for id in "${frontend_ids[@]}"; do
        docker logs "$id" 2>&1 | grep -c 'closing: client disconnected' || true
    done
}
sum() { awk '{ s += $1 } END { print s + 0 }'; }
# Waits (at most 15 s) until the frontends together logged EXPECTED sessions
# more than BASELINE (newline-separated counts); prints the per-frontend increase.
wait_for_sessions() {  # BASELINE EXPECTED
    local baseline="$1" expected="$2" current increase deadline=$((SECONDS + 15))
    while :; do
        current="$(counts)"
        increase="$(paste <(echo "$current") <(echo "$baseline") | awk '{ print $1 - $2 }')"
        if (($(sum <<<"$increase") >= expected)) || ((SECONDS >= deadline)); then
            echo "$increase"
            return
        fi
        sleep 0.2
    done
}

begin ready
# Ready when a connection has gone through every frontend: HAProxy has found
# them all in DNS and marked them up. At most 90 s.
deadline=$((SECONDS + 90))
ready=0
attempts=0
while ((SECONDS < deadline)); do
    attempts=$((attempts + 1))
    publish "smoke/$project/probe" probe >/dev/null 2>&1 || sleep 1
    if ! counts | grep -qx 0; then
        ready=1
        break
    fi
done
if ((!ready)); then
    echo "docker-smoke: not every frontend got a connection within 90 s; sessions per frontend: $(counts | paste -sd' ')" >&2
    exit 1
fi
echo "docker-smoke: ready after $attempts probe connections"
end

begin checks
# 1 and 2: two subscribers and one publisher, one after the other, so that
# round robin spreads them over both frontends.
topic="smoke/$project/topic"
message="hello from $project $(date +%s%N)"
baseline="$(counts)"
sub_pids=()
for n in 1 2; do
    # -d prints "received SUBACK"; stdbuf makes it reach the file at once.
    stdbuf -oL mosquitto_sub "${client_args[@]}" -d -q 1 -C 1 -W 40 -i "$project-sub-$n" -t "$topic" \
        >"$work/sub-$n.out" 2>&1 &
    sub_pids+=($!)
    # Wait for the SUBACK (at most 15 s) so the next connection comes after.
    subscribed=0
    for _ in $(seq 1 75); do
        if grep -q '^Client .* received SUBACK' "$work/sub-$n.out"; then
            subscribed=1
            break
        fi
        sleep 0.2
    done
    ((subscribed)) || echo "docker-smoke: subscriber $n got no SUBACK within 15 s" >&2
done
publish "$topic" "$message" -i "$project-pub" || fail "delivery: mosquitto_pub failed"
received=0
for n in 1 2; do
    wait "${sub_pids[$((n - 1))]}" || true
    if grep -qxF "$message" "$work/sub-$n.out"; then
        received=$((received + 1))
    else
        echo "docker-smoke: subscriber $n printed:" >&2
        cat "$work/sub-$n.out" >&2
    fi
done
if ((received == 2)); then
    pass "delivery: both subscribers received the message"
else
    fail "delivery: $received of 2 subscribers received the message"
fi
spread="$(wait_for_sessions "$baseline" 3 | paste -sd' ')"
if ! grep -qw 0 <<<"$spread" && ((received == 2)); then
    pass "cross-frontend: subscribers and publisher spread over the frontends as $spread"
else
    fail "cross-frontend: the 3 sessions landed on the frontends as $spread"
fi

# 3: several connections in a row land on every frontend.
baseline="$(counts)"
for n in $(seq 1 "$connections"); do
    publish "smoke/$project/spread" "$n" -i "$project-spread-$n" || fail "spread: connection $n failed"
done
spread="$(wait_for_sessions "$baseline" "$connections" | paste -sd' ')"
if awk -v min=2 '{ for (i = 1; i <= NF; i++) if ($i < min) exit 1 }' <<<"$spread"; then
    pass "spread: $connections connections landed on the frontends as $spread"
else
    fail "spread: $connections connections landed on the frontends as $spread (want >= 2 each)"
fi
end
