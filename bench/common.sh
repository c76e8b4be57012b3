# Shared by the bench scripts that start a broker of their own (source it,
# after setting `root` and `bin`): checks the binaries, makes a temp work
# dir with a development certificate and a password file (user bench,
# password benchpw), and on exit stops $broker_pid and $helper_pid (a
# measuring window's subshell, when a script runs one) and removes the dir.
#
#   bench_setup NAME     -> $work; NAME prefixes the dir and error messages
#   free_port            -> a free loopback TCP port
#   wait_listening PORT  -> returns once something accepts on PORT (at most
#                           $2 tenths of a second, default 100)
#   bench_targets NAME LIST -> from a --targets list (`ours`, `mosquitto`,
#                           NAME=PATH of another mqtt-broker): the array `order`
#                           (their names) and the map `paths` (name -> binary,
#                           "" for Mosquitto); NAME prefixes error messages
#   broker_args PORT     -> sets the array broker_args: mqtt-broker's arguments
#                           as the suite gives them, TLS on 127.0.0.1:PORT
#   mosquitto_conf PORT  -> writes $work/mosquitto.conf (and its password file):
#                           Debian's Mosquitto as the suite configures it
#                           (bench/targets.py), TLS on 127.0.0.1:PORT

bench_setup() {
    local name="$1" b
    for b in mqtt-broker mqtt-bench mqtt-passwd; do
        [[ -x "$bin/$b" ]] || { echo "$name: $bin/$b missing (scripts/build.sh)" >&2; exit 2; }
    done
    work="$(mktemp -d "/tmp/$name-XXXXXX")"
    broker_pid=""
    helper_pid=""
    trap bench_cleanup EXIT
    bash "$root/scripts/dev-certs.sh" "$work" >/dev/null
    "$bin/mqtt-passwd" -c -b "$work/passwd" bench benchpw >/dev/null
}

bench_cleanup() {
    local p
    for p in "$helper_pid" "$broker_pid"; do
        [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$work"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_listening() {
    local _
    for _ in $(seq 1 "${2:-100}"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 0
}

mosquitto_conf() {
    local pw="$work/passwd.mosquitto"
    mosquitto_passwd -c -b "$pw" bench benchpw >/dev/null
    chmod 600 "$pw"
    cat >"$work/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous false
password_file $pw
persistence false
sys_interval 0
max_queued_messages 1000
max_inflight_messages 20
set_tcp_nodelay true
connection_messages false
log_dest stderr
log_type error
log_type warning
user root
listener $1 127.0.0.1
max_connections -1
certfile $work/server.crt
keyfile $work/server.key
EOF
}

broker_args() {
    broker_args=(--listen "tls://127.0.0.1:$1" --connect-timeout 60 --tls-cert "$work/server.crt"
        --tls-key "$work/server.key" --password-file "$work/passwd" --stats none
        --sys-interval 0 --log-level warn --max-queued-messages 1000
        --max-inflight-messages 20)
}

bench_targets() {
    local name="$1" t names
    IFS=, read -ra names <<<"$2"
    declare -gA paths=()
    order=()
    for t in "${names[@]}"; do
        case "$t" in
            ours) paths[$t]="$bin/mqtt-broker" ;;
            mosquitto)
                command -v mosquitto >/dev/null || { echo "$name: mosquitto missing" >&2; exit 2; }
                paths[$t]="" ;;
            *=*) paths[${t%%=*}]="${t#*=}" ;;
            *) echo "$name: unknown target $t" >&2; exit 2 ;;
        esac
        order+=("${t%%=*}")
    done
}
