#!/usr/bin/env bash
# Configures (Ninja, RelWithDebInfo, tests on; CMakeLists.txt adds ccache) and builds
# into ./build. Arguments go to `cmake --build`, e.g. --target mqtt-broker.
# BUILD_DIR overrides the build directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"

configure=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    configure+=(-G Ninja)  # the generator can only be chosen for a new build directory
fi

cmake "${configure[@]}"
cmake --build "$build_dir" --parallel "$(nproc)" "$@"
