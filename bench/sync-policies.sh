#!/usr/bin/env bash
# Measures QoS 1 throughput and latency of mqtt-broker with each store sync
# policy (--sync always | batch | none), and without a store, side by side
# on this machine: for each round, each configuration in turn (alternating,
# so that a noisy neighbour hurts every configuration alike), a fresh broker
# and a fresh store in a temp dir on loopback, one mqtt-bench run against it.
# Prints a Markdown table of medians and writes it to --report (default
# bench/reports/sync-policies.md). Compare ratios, not absolute numbers.
#
#   bench/sync-policies.sh [--rounds N] [--duration S] [--pairs N] [--smoke] [--report FILE]
#
# --smoke: one short round, for CI (checks that it runs; numbers meaningless).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${MQTT_BIN_DIR:-$root/build/bin}"
rounds=3 duration=10 pairs=20 report="$root/bench/reports/sync-policies.md"
while (($#)); do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --pairs) pairs="$2"; shift 2 ;;
        --report) report="$2"; shift 2 ;;
        --smoke) rounds=1 duration=2 pairs=4; report=""; shift ;;
        *) echo "sync-policies: unknown argument $1" >&2; exit 2 ;;
    esac
done

source "$root/bench/common.sh"
bench_setup sync-policies

# One run: $1 = configuration name (memory | none | batch | always). Prints the JSON.
run_one() {
    local config="$1" port store_args=()
    port="$(free_port)"
    rm -rf "$work/store"
    [[ "$config" != memory ]] && store_args=(--data-dir "$work/store" --sync "$config")
    "$bin/mqtt-broker" --listen "tls://127.0.0.1:$port" --tls-cert "$work/server.crt" \
        --tls-key "$work/server.key" --password-file "$work/passwd" --stats none \
        --sys-interval 0 --log-level warn "${store_args[@]}" >>"$work/broker.log" 2>&1 &
    broker_pid=$!
    wait_listening "$port" 100
    "$bin/mqtt-bench" --url "mqtts://127.0.0.1:$port" --cafile "$work/ca.crt" -u bench -P benchpw \
        --scenario p2p --publishers "$pairs" --qos 1 --persistent --closed-loop --inflight 10 --payload 64 \
        --warmup 1 --duration "$duration" --drain 5 --json
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
}

configs=(memory none batch always)
declare -A results
for ((r = 1; r <= rounds; r++)); do
    for c in "${configs[@]}"; do
        echo "sync-policies: round $r/$rounds: $c" >&2
        results[$c]+="$(run_one "$c" | tr -d '\n')"$'\n'
    done
done

table="$(for c in "${configs[@]}"; do printf '%s\t%s' "$c" "${results[$c]}" | base64 -w0; echo; done |
    /usr/bin/python3 -c '
import base64, json, statistics, sys
rows = []
for line in sys.stdin:
    name, _, runs = base64.b64decode(line).decode().partition("\t")
    docs = [json.loads(l) for l in runs.splitlines() if l.strip()]
    med = lambda f: statistics.median(f(d) for d in docs)
    rows.append((name, med(lambda d: d["throughput"]["received_per_s"]),
                 med(lambda d: d["latency_us"]["p50"]), med(lambda d: d["latency_us"]["p99"]),
                 sum(d["messages"]["lost"] for d in docs), sum(d["messages"]["duplicated"] for d in docs)))
base = rows[0][1] or 1
print("| configuration | QoS 1 msg/s (median) | vs memory | p50 latency ms | p99 latency ms | lost | duplicated |")
print("|---|---|---|---|---|---|---|")
for name, tput, p50, p99, lost, dup in rows:
    label = "no store" if name == "memory" else f"--sync {name}"
    print(f"| {label} | {tput:,.0f} | {tput / base:.2f} | {p50 / 1000:.2f} | {p99 / 1000:.2f} | {lost} | {dup} |")
')"
echo "$table"
if [[ -n "$report" ]]; then
    mkdir -p "$(dirname "$report")"
    {
        echo "# QoS 1 with each store sync policy"
        echo
        echo "Measured $(date -u +%Y-%m-%d) by \`bench/sync-policies.sh --rounds $rounds --duration $duration --pairs $pairs\`:"
        echo "mqtt-broker over TLS on loopback, $pairs publisher/subscriber pairs with persistent sessions (clean"
        echo "session 0, so every message is journaled for its subscriber), QoS 1, 64-byte payloads,"
        echo "closed loop with 10 messages in flight per publisher, ${duration} s per run, medians of $rounds"
        echo "alternating rounds. $(nproc) cores shared with other work: compare the ratios, not the"
        echo "absolute numbers. Storage: $(df -T /tmp | awk 'NR==2 {print $2}') under /tmp."
        echo
        echo "$table"
        echo
        echo "What each policy risks: \`store/sync_policy.hpp\` and README (\`--sync\`)."
    } >"$report"
    echo "sync-policies: report written to $report" >&2
fi
