#!/usr/bin/env bash
# Counts the user-space instructions a broker spends per message routed, with
# valgrind's callgrind, split by object (the broker's own code, libcrypto,
# libssl, libc, libzmq, ...). Unlike time, an instruction count hardly moves
# with what else runs on the machine (±2 % from run to run, as batching
# varies), so it shows what a code change saved where timings cannot.
#
# Each target runs under callgrind with instrumentation off; mqtt-bench opens
# PAIRS TLS publisher/subscriber pairs (p2p, QoS 1, 64-byte payloads, open
# loop at RATE msg/s per publisher), and callgrind counts only a window of
# DURATION seconds of steady traffic. One message routed is one PUBLISH in,
# its PUBACK out, the PUBLISH out and its PUBACK in. Targets run one after
# the other, alternating over rounds; the table gives medians per target.
#
#   bench/instructions.sh [--targets LIST] [--rounds N] [--pairs N] [--rate R]
#                         [--duration S] [--smoke] [--report FILE]
#
# --targets: comma-separated; `ours` (MQTT_BIN_DIR/mqtt-broker), `mosquitto`
#            (Debian's, configured as in the suite), or NAME=PATH for another
#            mqtt-broker binary (e.g. base=/tmp/old/mqtt-broker) to compare
#            builds. Default: ours,mosquitto.
# --smoke:   one short round of `ours`, for CI (checks that it runs and counts
#            something; the numbers mean little).
# Valgrind comes from scripts/install-deps.sh. Exits 77 (skipped) for a
# sanitized build. Loopback only; stops what it starts.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${MQTT_BIN_DIR:-$root/build/bin}"
targets="ours,mosquitto" rounds=1 pairs=100 rate=5 duration=6 report=""
while (($#)); do
    case "$1" in
        --targets) targets="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --pairs) pairs="$2"; shift 2 ;;
        --rate) rate="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --report) report="$2"; shift 2 ;;
        --smoke) targets="ours" rounds=1 pairs=10 rate=5 duration=2; shift ;;
        *) echo "instructions: unknown argument $1" >&2; exit 2 ;;
    esac
done
for t in valgrind callgrind_control callgrind_annotate; do
    command -v "$t" >/dev/null || { echo "instructions: $t missing (scripts/install-deps.sh)" >&2; exit 2; }
done

# A sanitized build cannot run under valgrind (scripts/sanitize.sh builds
# these tests too): skip, with ctest's skip code.
if grep -qa -e __asan_init -e __tsan_init "$bin/mqtt-broker" 2>/dev/null; then
    echo "instructions: $bin/mqtt-broker is built with a sanitizer, which valgrind cannot run: skipped" >&2
    exit 77
fi
source "$root/bench/common.sh"
bench_setup instructions

# One run: $1 target name, $2 its binary ("" for mosquitto). Prints
# "name<TAB>object<TAB>instructions-per-message" lines.
run_one() {
    local name="$1" broker="$2" port out
    port="$(free_port)"
    out="$work/cg.$name"
    rm -f "$out".*
    local vg=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$out.%p")
    if [[ -z "$broker" ]]; then
        mosquitto_conf "$port"
        "${vg[@]}" mosquitto -c "$work/mosquitto.conf" >>"$work/broker.log" 2>&1 &
    else
        broker_args "$port"
        "${vg[@]}" "$broker" "${broker_args[@]}" >>"$work/broker.log" 2>&1 &
    fi
    broker_pid=$!
    wait_listening "$port" 300
    # Connecting under valgrind is slow: 20 connections a second, then the
    # window opens once every client is in and the load is steady.
    local connect_s=$((pairs * 2 / 20 + 4))
    (
        sleep $((connect_s + 2))
        callgrind_control -i on "$broker_pid" >/dev/null 2>&1
        sleep "$duration"
        callgrind_control -i off "$broker_pid" >/dev/null 2>&1
        callgrind_control -d "$broker_pid" >/dev/null 2>&1
    ) &
    helper_pid=$!
    "$bin/mqtt-bench" --url "mqtts://127.0.0.1:$port" --cafile "$work/ca.crt" -u bench -P benchpw \
        --scenario p2p --publishers "$pairs" --qos 1 --payload 64 --rate "$rate" \
        --warmup $((duration + 4)) --duration 2 --drain 2 --connect-rate 20 --connect-timeout 60 \
        --json >"$work/bench.json"
    wait "$helper_pid"
    helper_pid=""
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
    local dump
    dump="$(ls -t "$out".*.1 2>/dev/null | head -1)"
    [[ -n "$dump" ]] || { echo "instructions: no callgrind dump for $name" >&2; return 1; }
    # Under valgrind a broker may fall behind the offered rate: then the
    # count per message would come out too low. Say so.
    /usr/bin/python3 - "$work/bench.json" "$((pairs * rate))" "$name" >&2 <<'PY' || true
import json, sys
got = json.load(open(sys.argv[1]))["throughput"]["received_per_s"]
if got < 0.95 * float(sys.argv[2]):
    print(f"instructions: warning: {sys.argv[3]} delivered {got:.0f} msg/s of {sys.argv[2]} offered")
PY
    callgrind_annotate --inclusive=no --auto=no --threshold=100 "$dump" 2>/dev/null |
        /usr/bin/python3 -c '
import collections, re, sys
name, messages, own = sys.argv[1], float(sys.argv[2]), sys.argv[3]
by_object = collections.Counter()
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s.*\[(.*)\]\s*$", line)
    if m:
        obj = m.group(2).split("/")[-1]
        obj = "own code" if obj == own else "other" if obj == "???" else obj
        by_object[obj] += int(m.group(1).replace(",", ""))
for obj, n in by_object.items():
    print(f"{name}\t{obj}\t{n / messages:.0f}")
' "$name" "$((pairs * rate * duration))" "$(basename "${broker:-mosquitto}")"
}

bench_targets instructions "$targets"

: >"$work/rows"
for ((r = 1; r <= rounds; r++)); do
    for t in "${order[@]}"; do
        echo "instructions: round $r/$rounds: $t" >&2
        # (Not in a pipeline: run_one sets broker_pid for the cleanup.)
        run_one "$t" "${paths[$t]}" >"$work/row"
        sed "s/^/$r\t/" "$work/row" >>"$work/rows"
    done
done

table="$(/usr/bin/python3 - "$work/rows" "${order[@]}" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(lambda: collections.defaultdict(dict))
for line in open(sys.argv[1]):
    r, name, obj, n = line.rstrip("\n").split("\t")
    rows[name][obj][r] = float(n)
order = sys.argv[2:]
def total(name):
    per_round = collections.Counter()
    for obj, by_round in rows[name].items():
        for r, n in by_round.items():
            per_round[r] += n
    return statistics.median(per_round.values()) if per_round else 0
objects = sorted({o for n in order for o in rows[n]}, key=lambda o: -max(
    statistics.median(rows[n][o].values()) if o in rows[n] else 0 for n in order))
objects = [o for o in objects if max(statistics.median(rows[n][o].values()) if o in rows[n] else 0
                                     for n in order) >= 100]
base = total(order[-1]) or 1
print("| instructions per message routed | " + " | ".join(order) + " |")
print("|---|" + "---:|" * len(order))
for o in objects:
    cells = [f"{statistics.median(rows[n][o].values()):,.0f}" if o in rows[n] else "–" for n in order]
    print(f"| {o} | " + " | ".join(cells) + " |")
print("| **total** | " + " | ".join(f"**{total(n):,.0f}**" for n in order) + " |")
print(f"| × {order[-1]} | " + " | ".join(f"{total(n) / base:.2f}×" for n in order) + " |")
EOF
)"
echo "$table"
if ! awk -F'\t' '$3 == "own code" && $4 > 0 { found = 1 } END { exit !found }' "$work/rows"; then
    echo "instructions: no instructions counted in the broker's own code" >&2
    exit 1
fi
if [[ -n "$report" ]]; then
    mkdir -p "$(dirname "$report")"
    {
        echo "# Instructions per message routed"
        echo
        echo "Measured $(date -u +%Y-%m-%d) by \`bench/instructions.sh --targets $targets --rounds $rounds"
        echo "--pairs $pairs --rate $rate --duration $duration\`: callgrind, $pairs TLS p2p pairs, QoS 1,"
        echo "64-byte payloads, $((pairs * rate)) msg/s, a window of $duration s of steady traffic,"
        echo "medians of $rounds alternating rounds. One message routed: PUBLISH in, PUBACK out,"
        echo "PUBLISH out, PUBACK in. User-space instructions only (system calls are not counted)."
        echo
        echo "$table"
    } >"$report"
    echo "instructions: report written to $report" >&2
fi
