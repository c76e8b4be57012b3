#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build and test iot-mqtt-server.
# Packages already installed are not touched; when nothing is missing the
# network is not used. Runs apt-get as root, or through sudo otherwise.
#
#   scripts/install-deps.sh            build, test and sanitizer packages (CI)
#   scripts/install-deps.sh --build    build packages only
#   scripts/install-deps.sh --sanitize clang, its sanitizer and libFuzzer
#                                      runtimes, llvm-symbolizer
#                                      (scripts/sanitize.sh, scripts/fuzz.sh)
#   scripts/install-deps.sh --docker   Docker engine, docker-compose (v1) and
#                                      debootstrap, for deploy/ and
#                                      scripts/docker-smoke.sh only
# Options combine (e.g. --build --sanitize).
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build ccache pkg-config
    libboost-dev libboost-test-dev libboost-program-options-dev
    libssl-dev openssl libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libspdlog-dev
    librocksdb-dev clang-format nodejs npm
)
# System tests drive the real binaries with Mosquitto's clients, paho-mqtt
# (Debian's /usr/bin/python3), mosquitto_passwd (package mosquitto) and
# MQTT.js under Node and in headless Chromium (driven by puppeteer-core from
# npm; the tests install their npm packages themselves). valgrind: the
# callgrind counts of bench/instructions.sh (and its smoke test).
test_packages=(mosquitto mosquitto-clients python3 python3-paho-mqtt chromium gnuplot-nox valgrind)
# scripts/sanitize.sh and scripts/fuzz.sh build with clang 14 (ASan, UBSan,
# TSan and libFuzzer runtimes are in libclang-rt-14-dev); `llvm` brings
# llvm-symbolizer, without which sanitizer reports have no function names.
sanitize_packages=(clang libclang-rt-14-dev llvm)
# Optional: only the Docker scripts use these (deploy/docker-host.sh makes the
# base image with debootstrap, as no image registry is reachable).
docker_packages=(docker.io docker-compose debootstrap openssl mosquitto-clients)

wanted=()
(($#)) || wanted=("${build_packages[@]}" "${test_packages[@]}" "${sanitize_packages[@]}")
for arg in "$@"; do
    case "$arg" in
        --build) wanted+=("${build_packages[@]}") ;;
        --sanitize) wanted+=("${sanitize_packages[@]}") ;;
        --docker) wanted+=("${docker_packages[@]}") ;;
        *) echo "usage: $0 [--build] [--sanitize] [--docker]" >&2; exit 2 ;;
    esac
done

missing=()
for package in "${wanted[@]}"; do
    # A nodejs package that bundles npm (e.g. NodeSource's) conflicts with Debian's npm.
    [[ "$package" == npm ]] && command -v npm >/dev/null && continue
    status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null || true)"
    [[ "$status" == ii* ]] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#wanted[@]} packages present"
    exit 0
fi

if ((EUID == 0)); then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
