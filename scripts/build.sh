#!/usr/bin/env bash
# Configures (Ninja, RelWithDebInfo, tests on; CMakeLists.txt adds ccache) and builds
# into ./build. Arguments go to `cmake --build`, e.g. --target mqtt-broker.
# BUILD_DIR overrides the build directory.
#
# Profile-guided (GCC, cmake/pgo.cmake): the first build of a build directory
# also builds an instrumented broker in $BUILD_DIR/pgo/build, runs
# scripts/pgo-train.sh's workload against it (about 30 s), and keeps the
# profile in $BUILD_DIR/pgo/profile; the build proper is optimised with it.
# Later builds reuse that profile (sources edited since compile with what still
# matches of it).
#   MQTT_PGO=0          build without a profile (and without training); also off, no, false
#   MQTT_PGO_RETRAIN=1  train again first (after changes to the hot paths, or
#                       after a failed training, which later builds do not retry)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd -P)"  # GCC names profiles by the real path

configure=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    configure+=(-G Ninja)  # the generator can only be chosen for a new build directory
fi

# train PGO_DIR: builds the instrumented broker in PGO_DIR/build, runs the
# training workload, and leaves the profile in PGO_DIR/profile with its hash
# in PGO_DIR/profile.id. Returns non-zero (and leaves no profile.id) on failure.
# (Every step checks its own status: errexit does not apply inside a function
# called from an || list.)
train() (
    local pgo_dir="$1" train_build="$1/build"
    local train_configure=(-S "$root" -B "$train_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
        -DBUILD_TESTING=OFF -DMQTT_PGO=generate "-DMQTT_PGO_DIR=$pgo_dir/profile-new"
        # Same optimisation as the build proper (the profile must match its
        # code), without debug information: a quicker compile.
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
    [[ -f "$train_build/CMakeCache.txt" ]] || train_configure+=(-G Ninja)
    rm -rf "$pgo_dir/profile-new"
    cmake "${train_configure[@]}" >/dev/null || return 1
    # Without ccache: an instrumented object holds the absolute path its
    # profile goes to, which ccache's hash leaves out (CCACHE_BASEDIR), so
    # another clone's object would write its profile there.
    CCACHE_DISABLE=1 cmake --build "$train_build" --parallel "$(nproc)" \
        --target mqtt-broker mqtt-bench mqtt-passwd || return 1
    "$root/scripts/pgo-train.sh" "$train_build/bin" || return 1
    if ! compgen -G "$pgo_dir/profile-new/*.gcda" >/dev/null; then
        echo "build: the training left no profile in $pgo_dir/profile-new" >&2
        return 1
    fi
    rm -rf "$pgo_dir/profile" && mv "$pgo_dir/profile-new" "$pgo_dir/profile" || return 1
    # The profile's name in every compile command: a new profile compiles
    # everything again (ccache and Ninja alike).
    (cd "$pgo_dir/profile" && find . -name '*.gcda' -print0 | sort -z | xargs -0 sha256sum) |
        sha256sum | cut -c1-16 >"$pgo_dir/profile.id.new" || return 1
    mv "$pgo_dir/profile.id.new" "$pgo_dir/profile.id"
)

pgo_dir="$build_dir/pgo"
profile="$pgo_dir/profile"
case "${MQTT_PGO:-1}" in 0 | off | no | false) pgo=0 ;; *) pgo=1 ;; esac
if ((pgo == 0)); then
    configure+=(-DMQTT_PGO=off)
else
    if [[ "${MQTT_PGO_RETRAIN:-0}" == 1 ]]; then
        rm -f "$pgo_dir/profile.id" "$pgo_dir/training-failed"
    fi
    if [[ -e "$pgo_dir/training-failed" ]]; then
        echo "build: WARNING: the last training failed; building without a profile" \
            "(MQTT_PGO_RETRAIN=1 tries again)" >&2
    elif [[ ! -s "$pgo_dir/profile.id" ]]; then
        echo "build: training the profile-guided build (MQTT_PGO=0 skips it)"
        if ! train "$pgo_dir"; then
            rm -f "$pgo_dir/profile.id"
            mkdir -p "$pgo_dir" && touch "$pgo_dir/training-failed"
            echo "build: WARNING: the training failed (above); building without a profile" \
                "(MQTT_PGO_RETRAIN=1 tries again)" >&2
        fi
    fi
    if [[ -s "$pgo_dir/profile.id" ]]; then
        configure+=(-DMQTT_PGO=use "-DMQTT_PGO_DIR=$profile" "-DMQTT_PGO_ID=$(cat "$pgo_dir/profile.id")")
    else
        configure+=(-DMQTT_PGO=off)
    fi
fi

cmake "${configure[@]}"
cmake --build "$build_dir" --parallel "$(nproc)" "$@"
