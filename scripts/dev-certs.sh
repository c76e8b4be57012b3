#!/usr/bin/env bash
# Creates development TLS files in DIR, keeping those already there:
#   ca.crt, ca.key          a development certificate authority
#   server.crt, server.key  CN=localhost, subjectAltName DNS:localhost,
#                           IP:127.0.0.1, IP:::1, signed by that CA
# Private keys are mode 0600. For development only.
set -euo pipefail

if (($# != 1)); then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir="$1"
mkdir -p "$dir"
cd "$dir"
umask 077

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ ! -s ca.crt || ! -s ca.key ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 3650 \
        -subj "/CN=iot-mqtt-server development CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$tmp/ca.crt"
    mv "$tmp/ca.key" ca.key
    mv "$tmp/ca.crt" ca.crt
    rm -f server.crt  # signed by the previous CA, if any
    echo "dev-certs: created $dir/ca.crt"
fi

if [[ ! -s server.crt || ! -s server.key ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/server.key" 2>/dev/null
    openssl req -new -key "$tmp/server.key" -subj "/CN=localhost" -out "$tmp/server.csr"
    cat >"$tmp/server.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
EXT
    openssl x509 -req -in "$tmp/server.csr" -CA ca.crt -CAkey ca.key \
        -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
        -extfile "$tmp/server.ext" -out "$tmp/server.crt" 2>/dev/null
    mv "$tmp/server.key" server.key
    mv "$tmp/server.crt" server.crt
    echo "dev-certs: created $dir/server.crt"
fi

chmod 0600 ca.key server.key
chmod 0644 ca.crt server.crt
