#!/usr/bin/env bash
# Builds and starts a development mqtt-broker on tls://0.0.0.0:8885.
# First run: installs the packages, builds, and creates ./data/ with a
# development CA and server certificate and a password file for user `dev`
# with a random password (kept in data/dev-password and reused later).
# Arguments are passed on to mqtt-broker (e.g. --log-level debug).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh
scripts/build.sh --target mqtt-broker mqtt-passwd

data="data"
mkdir -p "$data"
chmod 0700 "$data"
scripts/dev-certs.sh "$data"

if [[ ! -s "$data/dev-password" ]]; then
    (umask 077 && openssl rand -hex 16 >"$data/dev-password")
    rm -f "$data/passwd"  # holds the previous password, if any
fi
chmod 0600 "$data/dev-password"
password="$(<"$data/dev-password")"
if [[ ! -s "$data/passwd" ]]; then
    build/bin/mqtt-passwd -c -b "$data/passwd" dev "$password"
    chmod 0600 "$data/passwd"
fi

cat <<EOF_HELP

Connect from $root (user dev, password in data/dev-password):

  mosquitto_sub --cafile data/ca.crt -h localhost -p 8885 -u dev -P $password -t test/topic -v
  mosquitto_pub --cafile data/ca.crt -h localhost -p 8885 -u dev -P $password -t test/topic -m hello

  /usr/bin/python3 -c 'import paho.mqtt.publish as p; p.single("test/topic", "hello", hostname="localhost", port=8885, auth={"username": "dev", "password": "$password"}, tls={"ca_certs": "data/ca.crt"})'

Starting build/bin/mqtt-broker (Ctrl-C stops it).

EOF_HELP

exec build/bin/mqtt-broker \
    --listen tls://0.0.0.0:8885 \
    --tls-cert "$data/server.crt" \
    --tls-key "$data/server.key" \
    --password-file "$data/passwd" \
    --data-dir "$data/store" \
    "$@"
