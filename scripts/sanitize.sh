#!/usr/bin/env bash
# Builds everything with sanitizers and runs ctest under them.
#
#   scripts/sanitize.sh [asan|tsan] [ctest arguments...]
#
#   asan (default): gcc, -DMQTT_SANITIZE=address,undefined into ./build-asan;
#                   runs the whole suite (unit, component, system, bench smoke).
#   tsan:           gcc, -DMQTT_SANITIZE=thread into ./build-tsan; runs only the
#                   frontend-related tests (libzmq, RocksDB and Boost are not
#                   instrumented, so TSan cannot see their synchronisation and
#                   would report races inside the router and the store);
#                   tests/tsan.supp silences what is left of that.
#
# Undefined behaviour, a memory error or (asan) a leak makes the process
# exit non-zero (halt_on_error), so the test fails; every report is also
# written to <build dir>/sanitizer-logs/ and any report there fails the run
# (the brokers started by system tests included). BUILD_DIR overrides the
# build directory; extra arguments go to ctest (e.g. -L unit, -R codec).
# Prints ctest's summary, the build and test wall times and the load average;
# exits with ctest's exit code.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="asan"
if [[ $# -gt 0 && ( "$1" == asan || "$1" == tsan ) ]]; then
    mode="$1"
    shift
fi

case "$mode" in
    asan)
        sanitize="address,undefined"
        build_dir="${BUILD_DIR:-$root/build-asan}"
        select=()
        ;;
    tsan)
        sanitize="thread"
        build_dir="${BUILD_DIR:-$root/build-tsan}"
        # The connection state machine, codec, events, auth and config (unit),
        # the connection suites (component), and the system tests that go
        # through the frontend's listeners, TLS, WebSocket and connection code
        # in one process, where the frontend's I/O threads actually run.
        select=(-R '^(unit\.|component\.connection_|system\.test_0[1-9]_|system\.test_1[04]_)')
        ;;
esac

# Build (nice: the machine is shared). gcc: its libasan/libtsan come with
# gcc-12, and Boost.Test's shared library and Debian's RocksDB/libzmq link as
# they are.
configure=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
           -DCMAKE_CXX_COMPILER=g++ "-DMQTT_SANITIZE=$sanitize")
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    configure+=(-G Ninja)
fi
start=$(date +%s)
nice -n 10 cmake "${configure[@]}"
nice -n 10 cmake --build "$build_dir" --parallel "$(nproc)"
built=$(date +%s)

# Sanitizer settings for every test process. Reports go to files in
# $build_dir/sanitizer-logs/ (one per process that had something to say), so
# that those of the brokers the system tests start, whose exit codes and
# stderr the tests do not always look at, are seen too: any report there
# fails the run, and the reports are printed after ctest's summary.
# quarantine_size_mb=16 (default 256): freed memory ASan holds back to catch
# use-after-free would otherwise count as growth in the memory-bound checks
# of system.test_11_slow_consumer.
logs="$build_dir/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:quarantine_size_mb=16:strict_init_order=1:check_initialization_order=1:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [[ -f "$root/tests/lsan.supp" ]]; then
    export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp:log_path=$logs/tsan${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

set +e
ctest --test-dir "$build_dir" --output-on-failure -j2 "${select[@]}" "$@"
rc=$?
set -e
done_at=$(date +%s)

reports=("$logs"/*)
if [[ -e "${reports[0]}" ]]; then
    echo "sanitize ($mode): ${#reports[@]} sanitizer report(s) in $logs:"
    for report in "${reports[@]}"; do
        echo "===== $report"
        head -n 80 "$report"
    done
    ((rc != 0)) || rc=1
fi

echo "sanitize ($mode): build $((built - start)) s, tests $((done_at - built)) s, load: $(uptime | sed 's/.*load average: //')"
exit $rc
