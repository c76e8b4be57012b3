#!/usr/bin/env bash
# Smoke test of the Docker deployment (deploy/): builds the images, starts
# deploy/docker-compose.yml under a project name of its own with 2 routers and
# 2 frontends behind HAProxy, and checks from the host, over TLS through the
# load balancer's port (published on 127.0.0.1 only), with mosquitto_sub/pub
# and Debian's /usr/bin/python3 with paho-mqtt, that
#   1. delivery: a message published by one client reaches two subscribers;
#   2. cross-frontend: those three connections were spread over both
#      frontends, so the routers carried the message from one to the other;
#   3. spread: of SMOKE_CONNECTIONS further connections, each frontend got at
#      least 2 (read from each frontend container's log at debug level);
#   4. takeover: a second connection with the same client id closes the
#      first one, and the second one works;
#   5. scale-up: with SMOKE_WATCHERS subscribers connected, `--scale router=3`
#      adds a router (found through Docker's DNS); every subscriber stays
#      connected and receives what is published afterwards;
#   6. scale-down: back to `--scale router=2` (the removed router gets SIGTERM
#      and hands its sessions over); the same again.
# Also checked: every router and frontend container turns healthy (the health
# checks of docker-compose.yml).
# The stack is always torn down (trap), every wait is bounded, each phase is
# timed. Exit status 0 when every check passed. Prints "N passed, N failed".
#
# Phases: host (deploy/docker-host.sh: packages, dockerd, base image),
# binaries (scripts/build.sh), images, data, up, ready, checks, takeover,
# scale-up, scale-down, down.
#
# Environment:
#   SMOKE_PORT          host port of the load balancer (default: a free one)
#   SMOKE_PROJECT       compose project name (default: mqttsmoke<pid>)
#   SMOKE_CONNECTIONS   connections of check 3 (default 8)
#   SMOKE_WATCHERS      subscribers of checks 5 and 6 (default 8; client ids
#                       spread over the routers, so some change owner)
#   SMOKE_TAG           tag of both images (default latest)
#   SMOKE_FROM_SOURCE=1 build the image with --target runtime-from-source
#                       (compiles in Docker) instead of reusing build/bin
#   SMOKE_KEEP_LOGS=DIR copy the compose logs to DIR (and the routers' logs
#                       taken before one of them is removed)
#   BUILD_DIR           host build directory, as for scripts/build.sh: build
#                       (default) or build-docker (the two /.dockerignore lets in)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

frontends=2
routers=2
discovery_ms=1000  # MQTT_DISCOVERY_INTERVAL: how soon a scaled router is seen
project="${SMOKE_PROJECT:-mqttsmoke$$}"
connections="${SMOKE_CONNECTIONS:-8}"
watchers="${SMOKE_WATCHERS:-8}"
build_dir="$(realpath -m "${BUILD_DIR:-$root/build}")"
if [[ "$build_dir" != "$root/build" && "$build_dir" != "$root/build-docker" ]]; then
    echo "docker-smoke: BUILD_DIR must be $root/build or $root/build-docker (/.dockerignore)" >&2
    exit 2
fi
tag="${SMOKE_TAG:-latest}"
target="runtime"
[[ "${SMOKE_FROM_SOURCE:-0}" == 1 ]] && target="runtime-from-source"

work="$(mktemp -d /tmp/docker-smoke.XXXXXX)"
compose=(timeout 300 docker-compose -p "$project" -f "$root/deploy/docker-compose.yml")
stack_started=0
watch_pid=""
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
    if [[ -n "$watch_pid" ]]; then  # the subscribers of checks 5 and 6
        kill "$watch_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$watch_pid" 2>/dev/null
        wait "$watch_pid" 2>/dev/null
    fi
    if ((stack_started)); then
        "${compose[@]}" logs --no-color >"$work/compose.log" 2>&1
        if ((failed > 0 || status != 0)); then
            echo "docker-smoke: last lines of the compose logs:" >&2
            tail -n 60 "$work/compose.log" >&2
        fi
        if [[ -n "${SMOKE_KEEP_LOGS:-}" ]]; then
            mkdir -p "$SMOKE_KEEP_LOGS" && cp "$work/compose.log" "$SMOKE_KEEP_LOGS/"
            [[ -f "$work/routers-before-scale-down.log" ]] && cp "$work/routers-before-scale-down.log" "$SMOKE_KEEP_LOGS/"
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
export MQTT_DISCOVERY_INTERVAL="$discovery_ms"
echo "docker-smoke: project $project, load balancer on 127.0.0.1:$port, $routers routers, $frontends frontends"
stack_started=1
scale() {  # ROUTERS: every service's scale is given, or compose sets it back to 1
    "${compose[@]}" up -d --no-build --no-recreate --scale "router=$1" --scale "frontend=$frontends" \
        >"$work/up.log" 2>&1 || {
        cat "$work/up.log" >&2
        exit 1
    }
}
scale "$routers"
mapfile -t frontend_ids < <("${compose[@]}" ps -q frontend)
if ((${#frontend_ids[@]} != frontends)); then
    echo "docker-smoke: expected $frontends frontend containers, got ${#frontend_ids[@]}" >&2
    exit 1
fi
end

# Waits (at most 60 s) until SERVICE has COUNT containers, all running and
# healthy (the health checks of docker-compose.yml).
wait_healthy() {  # SERVICE COUNT
    local service="$1" count="$2" ids states deadline=$((SECONDS + 60))
    while :; do
        mapfile -t ids < <("${compose[@]}" ps -q "$service")
        states=""
        if ((${#ids[@]} > 0)); then
            states="$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "${ids[@]}" | sort | uniq -c | awk '{ print $1, $2 }' | paste -sd' ')"
        fi
        if ((${#ids[@]} == count)) && [[ "$states" == "$count running/healthy" ]]; then
            return 0
        fi
        if ((SECONDS >= deadline)); then
            echo "docker-smoke: $service: want $count running/healthy, have: ${states:-none}" >&2
            return 1
        fi
        sleep 1
    done
}
# Waits (at most 45 s) until every frontend has logged each router as up and
# every router each other router (ids are HOSTNAME-PID, the hostname being the
# short container id). Only a wait: the checks that follow decide.
wait_cluster() {
    local fe r other log missing deadline=$((SECONDS + 45))
    local -a router_ids
    mapfile -t router_ids < <("${compose[@]}" ps -q router | cut -c1-12)
    while :; do
        missing=""
        # (The logs go into a variable: with pipefail, `docker logs | grep -q`
        # could fail when grep stops reading early.)
        for fe in "${frontend_ids[@]}"; do
            log="$(docker logs "$fe" 2>&1)"
            for r in "${router_ids[@]}"; do
                grep -qE "router '$r-[0-9]+' at .* is up" <<<"$log" ||
                    missing+=" frontend ${fe:0:12} does not see router $r;"
            done
        done
        for r in "${router_ids[@]}"; do
            log="$(docker logs "$r" 2>&1)"
            for other in "${router_ids[@]}"; do
                [[ "$r" == "$other" ]] && continue
                grep -qE "peer '$other-[0-9]+' at .* is up" <<<"$log" ||
                    missing+=" router $r does not see router $other;"
            done
        done
        if [[ -z "$missing" ]]; then
            echo "docker-smoke: every frontend and router sees the ${#router_ids[@]} routers"
            return 0
        fi
        if ((SECONDS >= deadline)); then
            echo "docker-smoke: after 45 s:$missing going on" >&2
            return 0
        fi
        sleep 1
    done
}

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
    if ! grep -qx 0 <<<"$(counts)"; then
        ready=1
        break
    fi
done
if ((!ready)); then
    echo "docker-smoke: not every frontend got a connection within 90 s; sessions per frontend: $(counts | paste -sd' ')" >&2
    exit 1
fi
echo "docker-smoke: ready after $attempts probe connections"
if wait_healthy router "$routers" && wait_healthy frontend "$frontends"; then
    pass "health: $routers routers and $frontends frontends healthy"
else
    fail "health: routers and frontends not all healthy"
fi
wait_cluster
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

# ---- paho clients (Debian's /usr/bin/python3), through the load balancer ----
cat >"$work/client.py" <<'EOF_PY'
"""watch OUT TOPIC ID...: one subscriber (QoS 1) per ID; lines to OUT: SUBSCRIBED ID,
MSG ID PAYLOAD, DISCONNECTED ID RC; runs until SIGTERM. takeover ID: connects ID twice and
checks that the first connection is closed and the second one works."""
import os, signal, sys, threading
import paho.mqtt.client as mqtt

host, port, cafile, user, password, mode = sys.argv[1:7]
args = sys.argv[7:]


def client(cid):
    c = mqtt.Client(client_id=cid, clean_session=True, reconnect_on_failure=False)
    c.tls_set(ca_certs=cafile)
    c.username_pw_set(user, password)
    return c


def watch(out_path, topic, ids):
    out = open(out_path, "a", buffering=1)
    lock, stop = threading.Lock(), threading.Event()

    def line(text):
        with lock:
            out.write(text + "\n")

    def on_connect(c, cid, flags, rc):
        line(f"CONNACK {cid} {rc}")
        if rc == 0:
            c.subscribe(topic, 1)

    clients = []
    for cid in ids:
        c = client(cid)
        c.user_data_set(cid)
        c.on_connect = on_connect
        c.on_subscribe = lambda c, cid, mid, granted: line(f"SUBSCRIBED {cid} {granted[0]}")
        c.on_message = lambda c, cid, m: line(f"MSG {cid} {m.payload.decode(errors='replace')}")
        c.on_disconnect = lambda c, cid, rc: stop.is_set() or line(f"DISCONNECTED {cid} {rc}")
        try:
            c.connect(host, int(port), keepalive=30)
        except OSError as e:
            line(f"ERROR {cid} {e}")
            continue
        c.loop_start()
        clients.append(c)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    for c in clients:
        c.disconnect()
        c.loop_stop()


def takeover(cid):
    events = {name: threading.Event() for name in ("a_up", "a_down", "b_up", "b_sub", "b_down")}

    def connect(c, prefix):
        c.on_connect = lambda *a: a[3] == 0 and events[prefix + "_up"].set()
        c.on_disconnect = lambda *a: events[prefix + "_down"].set()
        c.connect(host, int(port), keepalive=30)
        c.loop_start()
        if not events[prefix + "_up"].wait(10):
            sys.exit(f"takeover: connection {prefix.upper()} got no CONNACK 0 within 10 s")

    a, b = client(cid), client(cid)
    connect(a, "a")
    connect(b, "b")
    if not events["a_down"].wait(10):
        sys.exit("takeover: the first connection was not closed within 10 s")
    b.on_subscribe = lambda *a: events["b_sub"].set()
    b.subscribe("smoke/takeover", 1)
    if not events["b_sub"].wait(5) or events["b_down"].wait(1):
        sys.exit("takeover: the second connection does not work after the takeover")
    b.disconnect()
    for c in (a, b):
        c.loop_stop()
    print("first connection closed, second one works")


if mode == "watch":
    watch(args[0], args[1], args[2:])
elif mode == "takeover":
    takeover(args[0])
else:
    sys.exit(f"unknown mode {mode}")
EOF_PY
paho=(/usr/bin/python3 "$work/client.py" 127.0.0.1 "$port" "$cafile" dev "$password")

begin takeover
if out="$(timeout 40 "${paho[@]}" takeover "$project-twice" 2>&1)"; then
    pass "takeover: $out"
else
    fail "takeover: $out"
fi
end

# ---- 5 and 6: subscribers stay connected while routers come and go --------
watch_out="$work/watch.out"
watch_topic="smoke/$project/watch"
watch_ids=()
for n in $(seq 1 "$watchers"); do watch_ids+=("$project-watch-$n"); done
# Count of distinct watchers whose output has a line matching PATTERN (ERE,
# the watcher's id in place of @).
watchers_with() {
    local id n=0
    for id in "${watch_ids[@]}"; do
        grep -qE "^${1//@/$id}\$" "$watch_out" && n=$((n + 1))
    done
    echo "$n"
}
# Publishes MESSAGE and waits (at most 20 s) until every watcher got it.
# Prints how many did.
publish_to_watchers() {  # MESSAGE
    local got deadline=$((SECONDS + 20))
    publish "$watch_topic" "$1" -i "$project-wpub-$RANDOM" >/dev/null 2>&1 ||
        echo "docker-smoke: mosquitto_pub of '$1' failed" >&2
    while :; do
        got="$(watchers_with "MSG @ $1")"
        if ((got == watchers)) || ((SECONDS >= deadline)); then
            echo "$got"
            return
        fi
        sleep 0.2
    done
}
# Checks that every watcher is still connected and receives MESSAGE.
check_watchers() {  # CHECK MESSAGE WHAT
    local check="$1" message="$2" what="$3" got dropped
    got="$(publish_to_watchers "$message")"
    dropped="$(grep -c '^DISCONNECTED ' "$watch_out" || true)"
    if ((got == watchers && dropped == 0)); then
        pass "$check: $what; all $watchers subscribers stayed connected and received"
    else
        fail "$check: $what; $got of $watchers subscribers received, $dropped connections closed"
        grep -E '^(DISCONNECTED|ERROR) ' "$watch_out" >&2 || true
    fi
}

begin scale-up
watching=0
: >"$watch_out"
"${paho[@]}" watch "$watch_out" "$watch_topic" "${watch_ids[@]}" &
watch_pid=$!
deadline=$((SECONDS + 20))
while (($(watchers_with "SUBSCRIBED @ 1") < watchers)) && ((SECONDS < deadline)); do sleep 0.2; done
subscribed="$(watchers_with "SUBSCRIBED @ 1")"
before="$(publish_to_watchers "before scaling")"
if ((subscribed == watchers && before == watchers)); then
    echo "docker-smoke: $watchers subscribers connected and receiving"
    watching=1
    scale 3
    wait_healthy router 3 || fail "health: the third router is not healthy"
    wait_cluster
    check_watchers scale-up "after scaling up" "--scale router=3"
else
    fail "scale-up: only $subscribed of $watchers subscribers subscribed, $before received before scaling"
fi
end

if ((watching)); then
    begin scale-down
    # The router about to go: compose logs shows only the containers that remain.
    "${compose[@]}" logs --no-color router >"$work/routers-before-scale-down.log" 2>&1 || true
    scale "$routers"
    wait_healthy router "$routers" || fail "health: routers after scaling down"
    check_watchers scale-down "after scaling down" "--scale router=$routers (one router stopped with SIGTERM)"
    end
fi
