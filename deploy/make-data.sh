#!/usr/bin/env bash
# Makes the data directory that the compose files mount read-only at /data:
#   ca.crt, ca.key          development CA (scripts/dev-certs.sh); ca.key
#                           stays private to you, the containers never read it
#   server.crt, server.key  server certificate for localhost / 127.0.0.1
#   passwd                  password file with user `dev` (Mosquitto format)
#   dev-password            dev's random password (kept, reused on re-runs)
# and lets the containers' user read what they need: the directory and
# server.crt, server.key, passwd get group IOT_MQTT_GID (default 10001, the
# image's `mqtt` group), server.key and passwd mode 0640.
# Run as root, or as yourself with IOT_MQTT_GID=$(id -g) (and the same
# IOT_MQTT_UID/GID exported for docker-compose).
#
#   deploy/make-data.sh [DIR]        DIR defaults to deploy/data
#
# Uses build/bin/mqtt-passwd when it exists, otherwise the image
# iot-mqtt-server:${IOT_MQTT_TAG:-latest}. Safe to run again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/deploy/data}"
gid="${IOT_MQTT_GID:-10001}"
user="dev"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
"$root/scripts/dev-certs.sh" "$dir" >/dev/null

if [[ ! -s "$dir/dev-password" ]]; then
    (umask 077 && openssl rand -hex 16 >"$dir/dev-password")
    rm -f "$dir/passwd"  # holds the previous password, if any
fi
chmod 0600 "$dir/dev-password"
password="$(<"$dir/dev-password")"

if [[ ! -s "$dir/passwd" ]]; then
    if [[ -x "$root/build/bin/mqtt-passwd" ]]; then
        "$root/build/bin/mqtt-passwd" -c -b "$dir/passwd" "$user" "$password"
    else
        docker run --rm --network none --user "$(id -u):$(id -g)" -v "$dir:/data" \
            "iot-mqtt-server:${IOT_MQTT_TAG:-latest}" \
            mqtt-passwd -c -b /data/passwd "$user" "$password"
    fi
fi

chgrp "$gid" "$dir" "$dir/server.crt" "$dir/server.key" "$dir/passwd"
chmod 0750 "$dir"
chmod 0644 "$dir/server.crt" "$dir/ca.crt"
chmod 0640 "$dir/server.key" "$dir/passwd"
chmod 0600 "$dir/ca.key" "$dir/dev-password"
echo "make-data: $dir ready (user $user, password in $dir/dev-password, group $gid)"
