#!/usr/bin/env bash
# Installs the packages, builds everything with tests into ./build and runs
# ctest. Arguments go to ctest, e.g. `scripts/test.sh -L unit` or
# `scripts/test.sh -R config`. Exits with ctest's exit code.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
exec ctest --test-dir "${BUILD_DIR:-$root/build}" --output-on-failure -j"$(nproc)" "$@"
