#!/usr/bin/env bash
# Configures (Ninja, RelWithDebInfo, tests on; CMakeLists.txt adds ccache) and builds
# into ./build. Arguments go to `cmake --build`, e.g. --target mqtt-broker.
# BUILD_DIR overrides the build directory.
#
# Profile-guided (GCC, cmake/pgo.cmake): the first build of a build directory
# also builds an instrumented broker in $BUILD_DIR/pgo/build, runs
# scripts/pgo-train.sh's workload against it (about 20 s), and keeps the
# profile in $BUILD_DIR/pgo/profile; the build proper is optimised with it.
# Later builds reuse that profile (sources edited since compile with what still
# matches of it).
#   MQTT_PGO=0          build without a profile (and without training)
#   MQTT_PGO_RETRAIN=1  train again first (after changes to the hot paths)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"

configure=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    configure+=(-G Ninja)  # the generator can only be chosen for a new build directory
fi

pgo_dir="$build_dir/pgo"
profile="$pgo_dir/profile"
if [[ "${MQTT_PGO:-1}" == 0 ]]; then
    configure+=(-DMQTT_PGO=off)
else
    if [[ ! -s "$pgo_dir/profile.id" || "${MQTT_PGO_RETRAIN:-0}" == 1 ]]; then
        echo "build: training the profile-guided build (MQTT_PGO=0 skips it)"
        train_build="$pgo_dir/build"
        train_configure=(-S "$root" -B "$train_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
            -DBUILD_TESTING=OFF -DMQTT_PGO=generate "-DMQTT_PGO_DIR=$pgo_dir/profile-new"
            # Same optimisation as the build proper (the profile must match
            # its code), without debug information: a quicker compile.
            "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
        [[ -f "$train_build/CMakeCache.txt" ]] || train_configure+=(-G Ninja)
        rm -rf "$pgo_dir/profile-new" "$pgo_dir/profile.id"
        cmake "${train_configure[@]}" >/dev/null
        # Without ccache: an instrumented object holds the absolute path its
        # profile goes to, which ccache's hash leaves out (CCACHE_BASEDIR), so
        # another clone's object would write its profile there.
        CCACHE_DISABLE=1 cmake --build "$train_build" --parallel "$(nproc)" \
            --target mqtt-broker mqtt-bench mqtt-passwd
        "$root/scripts/pgo-train.sh" "$train_build/bin"
        if ! compgen -G "$pgo_dir/profile-new/*.gcda" >/dev/null; then
            echo "build: the training left no profile in $pgo_dir/profile-new" >&2
            exit 1
        fi
        rm -rf "$profile"
        mv "$pgo_dir/profile-new" "$profile"
        # The profile's name in every compile command: a new profile compiles
        # everything again (ccache and Ninja alike).
        (cd "$profile" && find . -name '*.gcda' -print0 | sort -z | xargs -0 sha256sum) |
            sha256sum | cut -c1-16 >"$pgo_dir/profile.id"
    fi
    configure+=(-DMQTT_PGO=use "-DMQTT_PGO_DIR=$profile" "-DMQTT_PGO_ID=$(cat "$pgo_dir/profile.id")")
fi

cmake "${configure[@]}"
cmake --build "$build_dir" --parallel "$(nproc)" "$@"
