#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: clang, ASan+UBSan) and runs each
# for a while on a copy of its seed corpus. CI runs each for 30 s (.ci/run).
#
#   scripts/fuzz.sh [--time SECONDS] [--target NAME]...
#
#   --time    seconds per target (default 60), libFuzzer's -max_total_time
#   --target  fuzz_framer_decoder, fuzz_connection or fuzz_events (repeatable;
#             default: all three)
#
# The build is ./build-san, shared with `scripts/sanitize.sh asan` (same
# configuration: one build serves the ASan+UBSan test run and the fuzzers);
# only the fuzz targets are built here (scripts/sanitize.sh asan --build-only
# --target ...), a few minutes from cold.
# The working corpus is build-san/corpus/<target>/: the checked-in seeds
# (tests/fuzz/corpus/<target>/) are copied in before each run, and what
# libFuzzer finds there stays for the next run; the checked-in seeds are
# never touched. Crashing inputs (and leaks, timeouts, OOMs) are saved as
# build-san/crashes/<target>-crash-<sha1>; each run's output goes to
# build-san/logs/<target>.log. Exits non-zero if any target crashed.
# Reproduce one with: build-san/fuzz/<target> build-san/crashes/<file>
# BUILD_DIR overrides the build directory. Packages (clang,
# libclang-rt-14-dev) come from scripts/install-deps.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build-san}"
seconds=60
all_targets=(fuzz_framer_decoder fuzz_connection fuzz_events)
targets=()

usage() {
    echo "usage: $0 [--time SECONDS] [--target NAME]..." >&2
    echo "targets: ${all_targets[*]}" >&2
    exit 2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --time) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; seconds="$2"; shift 2 ;;
        --target)
            [[ $# -ge 2 && " ${all_targets[*]} " == *" $2 "* ]] || usage
            targets+=("$2"); shift 2 ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

# The targets and the libraries they use, in the ASan+UBSan build.
build=()
for target in "${targets[@]}"; do build+=(--target "$target"); done
BUILD_DIR="$build_dir" "$root/scripts/sanitize.sh" asan --build-only "${build[@]}"

mkdir -p "$build_dir/crashes" "$build_dir/logs"
# Leaks count as crashes; UBSan already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=()
start=$(date +%s)
for target in "${targets[@]}"; do
    corpus="$build_dir/corpus/$target"
    mkdir -p "$corpus"
    cp -f "$root/tests/fuzz/corpus/$target/"* "$corpus/"
    dict="$root/tests/fuzz/dict/mqtt.dict"
    [[ "$target" == fuzz_events ]] && dict="$root/tests/fuzz/dict/events.dict"
    log="$build_dir/logs/$target.log"
    echo "fuzz: $target for ${seconds} s (corpus $(ls "$corpus" | wc -l) files)"
    set +e
    nice -n 10 "$build_dir/fuzz/$target" "$corpus" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -dict="$dict" -print_final_stats=1 \
        -artifact_prefix="$build_dir/crashes/$target-" >"$log" 2>&1
    rc=$?
    set -e
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)"
    if ((rc != 0)); then
        failed+=("$target")
        echo "fuzz: $target FAILED (exit $rc); last lines of $log:"
        tail -n 40 "$log"
        grep -o "Test unit written to .*" "$log" || true
    else
        echo "fuzz: $target ok: ${runs:-?} runs, ${cov:-cov ?}, corpus $(ls "$corpus" | wc -l) files"
    fi
done

if ((${#failed[@]})); then
    echo "fuzz: crashes in ${failed[*]} (inputs in $build_dir/crashes/)"
    exit 1
fi
echo "fuzz: no crash in ${targets[*]} ($(($(date +%s) - start)) s, load: $(cut -d' ' -f1-3 /proc/loadavg))"
