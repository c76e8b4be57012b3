#!/usr/bin/env bash
# Installs the packages, builds everything with tests into ./build and runs
# ctest. Arguments go to ctest, e.g. `scripts/test.sh -L unit` or
# `scripts/test.sh -R config`. Exits with ctest's exit code.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

"$root/scripts/install-deps.sh"
# ccache: paths relative to the source tree and no build directory in the
# hash, so a clone in another folder (CI) reuses what any other clone compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
"$root/scripts/build.sh"
exec ctest --test-dir "${BUILD_DIR:-$root/build}" --output-on-failure -j"$(nproc)" "$@"
