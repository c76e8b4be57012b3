#!/usr/bin/env bash
# Builds with sanitizers (clang) and runs ctest under them. CI runs both modes
# (.ci/run); README.md "## Tests" has the times.
#
#   scripts/sanitize.sh [asan|tsan] [--build-only] [--target NAME]... [--quick] [ctest arguments...]
#
#   asan (default): ASan + UBSan into ./build-san, which is also the libFuzzer
#                   build (-DMQTT_FUZZ=ON: scripts/fuzz.sh uses the same
#                   directory, so one build serves both). Runs the whole suite
#                   (unit, component, system, the fuzz corpus replays, the
#                   bench and soak smokes); --quick leaves the smokes out
#                   (labels bench, soak: about 3.5 minutes of load tests whose
#                   code paths the system tests already cover).
#   tsan:           ThreadSanitizer into ./build-tsan; builds only the binaries
#                   its tests use and runs the tests where more than one of our
#                   threads runs: mqtt-broker with --router-thread yes
#                   (router thread + frontend on main, sharing a zmq
#                   context, the stats mutex and atomics; MQTT_TEST_BROKER_ARGS)
#                   under the system tests, the router loop on a thread of its
#                   own (component.router_loop_*, router_stats), and
#                   the password-file reload (unit.auth_reload). libzmq,
#                   OpenSSL and RocksDB are Debian's, not instrumented:
#                   tests/tsan.supp says what that hides and why.
#
#   --build-only    configure and build, run nothing (scripts/fuzz.sh)
#   --target NAME   build only these targets (repeatable); default: all that
#                   the mode's tests need
#   --quick         asan: without the bench and soak smokes
#
# Both: MQTT_SANITIZE_QUICK (cmake/sanitizers.cmake): -gline-tables-only, and
# -O0 for asan (its cold build takes 60 % of the CPU time -O1 takes; the suite
# ran no slower) or -O1 for tsan; nice'd; ctest -j2. Cold builds on 2 cores:
# asan about 8 min, tsan about 8 min; the tests: asan about 6.5 min, tsan 3.
# Undefined behaviour, a memory error, a leak or a data race makes the process
# exit non-zero (halt_on_error), so the test fails; every report is also
# written to <build dir>/sanitizer-logs/ and any report there fails the run
# (the brokers started by system tests included). BUILD_DIR overrides the
# build directory; extra arguments go to ctest (e.g. -L unit, -R codec).
# Prints ctest's summary, the build and test wall times and the load average;
# exits with ctest's exit code (1 if a sanitizer reported anything).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="asan"
if [[ $# -gt 0 && ("$1" == asan || "$1" == tsan) ]]; then
    mode="$1"
    shift
fi
build_only=0
quick=0
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build-only) build_only=1; shift ;;
        --quick) quick=1; shift ;;
        --target)
            [[ $# -ge 2 ]] || { echo "sanitize: --target needs a name" >&2; exit 2; }
            targets+=("$2"); shift 2 ;;
        *) break ;;
    esac
done

case "$mode" in
    asan)
        build_dir="${BUILD_DIR:-$root/build-san}"
        cache=(-DMQTT_FUZZ=ON "-DMQTT_SANITIZE=address,undefined")
        select=()
        if ((quick)); then select=(-LE '^(bench|soak)$'); fi
        ;;
    tsan)
        build_dir="${BUILD_DIR:-$root/build-tsan}"
        # No web console (its npm build step; test_18 is not in the selection).
        cache=(-DMQTT_SANITIZE=thread -DMQTT_CONSOLE=OFF)
        # system: every test of mqtt-broker's two threads that the frontend's
        # listeners (TCP, TLS, WebSocket), auth, keep-alive, QoS, retained,
        # wills, $SYS stats (the stats mutex), ACL and TLS reloads (SIGHUP on
        # main, the router's reload on its thread) go through; test_10 runs
        # the tiers as two processes (single-threaded each, the baseline).
        # component: router_loop on its own thread, stopped from the test's.
        # mqtt-broker's router on a thread of its own (by default it shares
        # the frontend's): the two-thread mode is what TSan is here for.
        export MQTT_TEST_BROKER_ARGS="--router-thread yes${MQTT_TEST_BROKER_ARGS:+ $MQTT_TEST_BROKER_ARGS}"
        select=(-R '^(unit\.auth_reload|component\.router_loop_|component\.router_stats|system\.test_(0[1-9]|1[01]|14|15|2[234])_[a-z_]+$)')
        ((${#targets[@]})) ||
            targets=(mqtt-broker mqtt-frontend mqtt-router mqtt-passwd mqtt-stat unit_tests component_tests)
        ;;
esac

"$root/scripts/install-deps.sh"

# ccache: paths relative to the source tree and no build directory in the
# hash, so a clone in another folder (CI) reuses what any other clone compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"

# Build (nice: the machine is shared). clang: ASan+UBSan and libFuzzer in
# one build, and it compiles the sanitized Beast/Asio code several times
# faster than gcc. Debian's Boost.Test, libzmq, RocksDB and OpenSSL link as
# they are (not instrumented).
configure=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
           -DCMAKE_CXX_COMPILER=clang++ -DMQTT_SANITIZE_QUICK=ON "${cache[@]}")
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    configure+=(-G Ninja)
fi
start=$(date +%s)
nice -n 10 cmake "${configure[@]}" >/dev/null
build=(--parallel "$(nproc)")
((${#targets[@]} == 0)) || build+=(--target "${targets[@]}")
nice -n 10 cmake --build "$build_dir" "${build[@]}"
built=$(date +%s)
echo "sanitize ($mode): built in $((built - start)) s, load: $(cut -d' ' -f1-3 /proc/loadavg)"
((build_only == 0)) || exit 0

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
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:print_suppressions=0:suppressions=$root/tests/tsan.supp:log_path=$logs/tsan${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

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

echo "sanitize ($mode): build $((built - start)) s, tests $((done_at - built)) s, load: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
