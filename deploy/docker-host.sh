#!/usr/bin/env bash
# Makes this machine ready to build and run the images of deploy/:
#   1. installs the optional Docker packages (scripts/install-deps.sh --docker);
#   2. starts dockerd in the background when no engine answers (log in
#      $DOCKERD_LOG, default /tmp/dockerd.log) and waits for it; a dockerd
#      started here is left running for the next run;
#   3. makes the base image debian:bookworm-slim when it is missing, with
#      debootstrap (minbase) and `docker import`, as no image registry is
#      reachable here. Its apt sources are bookworm, bookworm-updates and
#      bookworm-security from $DEBIAN_MIRROR (default deb.debian.org).
# Every wait is bounded. Safe to run again: a step whose result is there is skipped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base_image="${BASE_IMAGE:-debian:bookworm-slim}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
dockerd_log="${DOCKERD_LOG:-/tmp/dockerd.log}"

"$root/scripts/install-deps.sh" --docker

if ((EUID == 0)); then
    as_root=()
else
    as_root=(sudo)
fi

# --- 2. the engine --------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
    if pgrep -x dockerd >/dev/null; then
        echo "docker-host: dockerd is running but does not answer yet; waiting"
    else
        echo "docker-host: starting dockerd (log: $dockerd_log)"
        # setsid: the engine outlives this script and its process group.
        "${as_root[@]}" setsid dockerd >"$dockerd_log" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 60); do
        if [[ -S /var/run/docker.sock ]] && docker info >/dev/null 2>&1; then
            break
        fi
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        echo "docker-host: dockerd did not answer within 60 s; last lines of $dockerd_log:" >&2
        tail -n 20 "$dockerd_log" >&2 || true
        exit 1
    fi
fi
echo "docker-host: engine $(docker version --format '{{.Server.Version}}')"

# --- 3. the base image ----------------------------------------------------
if docker image inspect "$base_image" >/dev/null 2>&1; then
    echo "docker-host: base image $base_image present"
    exit 0
fi

echo "docker-host: making $base_image with debootstrap from $mirror"
rootfs="$(mktemp -d /var/tmp/bookworm-rootfs.XXXXXX)"
trap '"${as_root[@]}" rm -rf "$rootfs"' EXIT
# debootstrap has no time-out of its own; apt's downloads are bounded by timeout(1).
"${as_root[@]}" timeout 900 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
    >/tmp/debootstrap.log 2>&1 || {
    echo "docker-host: debootstrap failed; last lines of /tmp/debootstrap.log:" >&2
    tail -n 20 /tmp/debootstrap.log >&2
    exit 1
}

# Trim it the way the official -slim image is trimmed: no apt lists or caches,
# no documentation, and apt told not to install documentation later.
"${as_root[@]}" tee "$rootfs/etc/apt/sources.list" >/dev/null <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
"${as_root[@]}" tee "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
"${as_root[@]}" tee "$rootfs/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
APT::Install-Recommends "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
EOF
"${as_root[@]}" find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
"${as_root[@]}" rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/* "$rootfs"/tmp/*

"${as_root[@]}" tar -C "$rootfs" -c . |
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$base_image" >/dev/null
echo "docker-host: made $base_image ($(docker image inspect --format '{{.Size}}' "$base_image") bytes)"
