#!/usr/bin/env bash
# How long a broker holds a message: from the end of the receive that brings
# a PUBLISH to the start of the send of its delivery. perf records the
# broker's receive and send system calls on the kernel's syscall tracepoints
# (nothing inside the broker: a uprobe costs more than the steps it would
# time), so the figure is the broker's own path, decrypting, routing and
# encrypting, without the load generator's scheduling that end-to-end
# latencies carry. It is precise to a microsecond where a p99 over a run
# wanders by milliseconds on this machine.
#
# PAIRS TLS p2p pairs (QoS 1, 64-byte payloads, open loop at RATE msg/s per
# publisher), a load at which messages mostly arrive alone. A publisher's
# socket carries only PUBLISH and a subscriber's only PUBACK, so a receive
# of 64 bytes or more is a PUBLISH and a send of that size a delivery; the
# broker's thread handles them in order, so each such send pairs with the
# oldest such receive not yet paired (one older than 5 ms is dropped: its
# delivery left together with another's). Targets run one after the other,
# alternating over rounds; the table gives the medians of each round's
# percentiles.
#
#   bench/critical-path.sh [--targets LIST] [--rounds N] [--pairs N]
#                          [--rate R] [--seconds S] [--smoke]
#
# --targets: comma-separated; `ours` (MQTT_BIN_DIR/mqtt-broker), `mosquitto`
#            (Debian's, configured as in the suite), or NAME=PATH for another
#            mqtt-broker binary. Default: ours,mosquitto.
# --smoke:   one short round of `ours`, for CI (checks that it pairs
#            messages; the numbers mean little).
# Needs perf and its access to syscall tracepoints (root, tracefs): exits
# 77 (skipped) without. Loopback only; stops what it starts.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${MQTT_BIN_DIR:-$root/build/bin}"
targets="ours,mosquitto" rounds=3 pairs=20 rate=20 seconds=4
while (($#)); do
    case "$1" in
        --targets) targets="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --pairs) pairs="$2"; shift 2 ;;
        --rate) rate="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --smoke) targets="ours" rounds=1 pairs=5 rate=20 seconds=2; shift ;;
        *) echo "critical-path: unknown argument $1" >&2; exit 2 ;;
    esac
done
events=(-e syscalls:sys_exit_recvfrom -e syscalls:sys_exit_read
    -e syscalls:sys_enter_sendto -e syscalls:sys_enter_write)
if ! command -v perf >/dev/null ||
    ! perf record -q -o /dev/null "${events[@]}" -- true >/dev/null 2>&1; then
    echo "critical-path: perf cannot record syscall tracepoints here: skipped" >&2
    exit 77
fi
source "$root/bench/common.sh"
bench_setup critical-path

# One run: $1 target name, $2 its binary ("" for mosquitto). Prints
# "name<TAB>samples<TAB>p10<TAB>p50<TAB>p90<TAB>p99" (microseconds).
run_one() {
    local name="$1" broker="$2" port
    port="$(free_port)"
    if [[ -z "$broker" ]]; then
        mosquitto_conf "$port"
        mosquitto -c "$work/mosquitto.conf" >>"$work/broker.log" 2>&1 &
    else
        broker_args "$port"
        "$broker" "${broker_args[@]}" >>"$work/broker.log" 2>&1 &
    fi
    broker_pid=$!
    wait_listening "$port"
    local warmup=2
    rm -f "$work/perf.data"
    (
        sleep $((pairs * 2 / 200 + warmup + 2))  # connected, and the load steady
        perf record -q -o "$work/perf.data" "${events[@]}" -p "$broker_pid" \
            -- sleep "$seconds" >"$work/perf.log" 2>&1
    ) &
    helper_pid=$!
    "$bin/mqtt-bench" --url "mqtts://127.0.0.1:$port" --cafile "$work/ca.crt" -u bench -P benchpw \
        --scenario p2p --publishers "$pairs" --qos 1 --payload 64 --rate "$rate" \
        --warmup $((warmup + 2)) --duration "$seconds" --drain 1 --connect-rate 200 \
        --json >"$work/bench.json"
    wait "$helper_pid" || true
    helper_pid=""
    kill "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
    broker_pid=""
    if [[ ! -s "$work/perf.data" ]]; then
        echo "critical-path: $name: perf recorded nothing:" >&2
        cat "$work/perf.log" >&2
        return 1
    fi
    perf script -i "$work/perf.data" -F time,event,trace 2>/dev/null |
        /usr/bin/python3 -c '
import collections, re, sys
name = sys.argv[1]
received, held = collections.deque(), []
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+):\s+syscalls:sys_(exit|enter)_\w+:\s*(.*)", line)
    if not m:
        continue
    t, rest = float(m.group(1)) * 1e6, m.group(3)
    if m.group(2) == "exit":  # a receive: what it returned
        # (A failed call returns -errno, printed as a huge unsigned number.)
        if rest.startswith("0x") and 64 <= int(rest, 16) < 1 << 63:
            received.append(t)
    else:  # a send: its length argument
        size = re.search(r"(?:len|count): (0x[0-9a-f]+)", rest)
        if size and int(size.group(1), 16) >= 64:
            # One that waited 5 ms had its delivery go out with another (two
            # records in one receive or one send, rare at this load): dropped,
            # so one miss does not shift every later pair.
            while received and t - received[0] > 5000:
                received.popleft()
            if received:
                held.append(t - received.popleft())
held.sort()
if not held:
    sys.exit(f"critical-path: {name}: no PUBLISH paired with a delivery")
def pct(p):
    return held[min(len(held) - 1, int(p * len(held)))]
print("\t".join([name, str(len(held))] + [f"{pct(p):.1f}" for p in (0.1, 0.5, 0.9, 0.99)]))
' "$name"
}

bench_targets critical-path "$targets"

: >"$work/rows"
for ((r = 1; r <= rounds; r++)); do
    for t in "${order[@]}"; do
        echo "critical-path: round $r/$rounds: $t" >&2
        run_one "$t" "${paths[$t]}" >>"$work/rows"
    done
done

/usr/bin/python3 - "$work/rows" "$pairs" "$rate" "${order[@]}" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, n, *pcts = line.split("\t")
    rows[name].append((int(n), [float(p) for p in pcts]))
pairs, rate, order = sys.argv[2], sys.argv[3], sys.argv[4:]
print(f"From a PUBLISH's receive to its delivery's send, microseconds ({pairs} TLS pairs, "
      f"QoS 1, {rate} msg/s each; medians over rounds):")
print("| target | paired per round | p10 | p50 | p90 | p99 |")
print("|---|---:|---:|---:|---:|---:|")
for name in order:
    runs = rows[name]
    cells = [f"{statistics.median(r[1][i] for r in runs):.1f}" for i in range(4)]
    print(f"| {name} | {statistics.median(r[0] for r in runs):.0f} | " + " | ".join(cells) + " |")
EOF
