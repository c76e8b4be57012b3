// The options of the three programs (mqtt-frontend, mqtt-router, mqtt-broker)
// and their parser. Options come from the command line, MQTT_* environment
// variables (option name upper-cased, '-' -> '_': MQTT_TLS_CERT) and a config
// file (--config FILE or MQTT_CONFIG; one "name = value" per line, '#'
// comments, repeatable names for repeatable options). Precedence: command line
// > environment > config file > defaults; a repeatable option takes all its
// values from the one source with the highest precedence that sets it.
//
// parse() checks types, ranges and cross-option rules and that the files
// named exist and are readable; it does not read their contents, except the
// --acl-file, which is parsed so that a bad line stops the start. It returns
// a value and never throws; main() prints `message` and exits with
// `exit_code` when `opts` is empty. Pure code apart from reading the config
// file, stat-ing the named files and gethostname(); safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/address_range.hpp"
#include "common/config/listener_url.hpp"

namespace config {

inline constexpr std::string_view version = "0.1.0";

// Largest MQTT packet: 268435455 bytes of body + 1 type byte + 4 length bytes.
inline constexpr std::size_t max_mqtt_packet_size = 268'435'460;

struct frontend_options {
    std::vector<listener_url> listeners;  // --listen URL (repeatable); default tls://0.0.0.0:8885
    std::string tls_cert, tls_key;  // --tls-cert/--tls-key FILE (required with a tls listener)
    std::string password_file;      // --password-file FILE
    std::string rsa_key;            // --rsa-key FILE (at least one of the two is required)
    // Client certificates (mutual TLS) on tls and wss listeners:
    std::string tls_ca;  // --tls-ca FILE: CAs a client certificate must chain to (verified if sent)
    bool require_client_cert = false;  // --require-client-cert: no certificate, no handshake
    // --use-identity-as-username: a verified certificate's subject CN is the client's
    // username and authenticates it (Mosquitto's use_identity_as_username).
    bool use_identity_as_username = false;
    std::size_t max_packet_size = 16 * 1024 * 1024;    // --max-packet-size BYTES
    std::size_t max_connect_packet_size = 256 * 1024;  // --max-connect-packet-size BYTES
    std::uint32_t connect_timeout_s = 10;              // --connect-timeout SECONDS
    std::size_t client_write_buffer = 256 * 1024;      // --client-write-buffer BYTES
    std::uint32_t client_write_timeout_s = 60;         // --client-write-timeout SECONDS
    std::string frontend_id;                           // --frontend-id (default: HOSTNAME-PID)
    // Limits (README "Limits"); 0 turns a count or rate off.
    std::size_t max_connections = 100'000;           // --max-connections N (this process)
    std::size_t max_connections_per_address = 1000;  // --max-connections-per-address N
    std::uint32_t connection_rate = 0;               // --connection-rate N per second
    std::uint32_t failed_login_delay_s = 30;         // --failed-login-delay SECONDS (the cap)
    // --exempt-addresses: sources the per-address limits (connections, failed
    // logins) skip; default loopback (127.0.0.0/8, ::1); "none": empty.
    std::vector<address_range> exempt_addresses;
    std::size_t max_topic_length = 65'535;  // --max-topic-length BYTES (names and filters)
    std::size_t max_topic_levels = 128;     // --max-topic-levels N
    bool console = true;  // --console on|off: the web console on wss/ws listeners (their .console)
    std::vector<std::string> routers;  // --routers tcp://HOST:PORT,... (mqtt-frontend only)
};

struct router_options {
    std::string bind = "tcp://0.0.0.0:7000";   // --bind ENDPOINT (mqtt-router only)
    std::size_t max_queued_messages = 1000;    // --max-queued-messages N (>= 1)
    std::size_t max_inflight_messages = 20;    // --max-inflight-messages N (1..65535)
    std::string router_id;                     // --router-id (default: HOSTNAME-PID)
    std::vector<std::string> peers;            // --routers (mqtt-router): the other routers
    std::uint32_t sys_interval_s = 10;         // --sys-interval SECONDS: $SYS topics (0: off)
    std::uint64_t max_queued_bytes = 0;        // --max-queued-bytes BYTES per session (0: none)
    std::uint64_t max_queued_bytes_total = 0;  // --max-queued-bytes-total BYTES (0: none)
    std::uint64_t max_retained_messages = 0;   // --max-retained-messages N (0: none)
    // --max-subscriptions-per-client N: filters one session may hold (0: none).
    std::uint64_t max_subscriptions_per_client = 10'000;
    std::uint32_t session_expiry_s = 0;  // --session-expiry SECONDS offline (0: never)
    // Per peer router: reliable messages kept until it acknowledges them.
    std::uint64_t max_forward_messages = 100000;     // --max-forward-messages N (0: none)
    std::uint64_t max_forward_bytes = 256ull << 20;  // --max-forward-bytes BYTES (0: none)
    // Durable state (docs/store.md): the RocksDB store's directory; empty
    // (--data-dir none, the default) keeps everything in memory only.
    std::string data_dir;        // --data-dir DIR|none
    std::string sync = "batch";  // --sync always|batch|none (store/sync_policy.hpp)
    bool store_recover = false;  // --store-recover yes|no: move a damaged store aside
    // mqtt-broker only: --router-thread auto|yes|no (tools/mqtt-broker/main.cpp);
    // own_router_thread() says what auto means.
    std::string router_thread = "auto";
    bool own_router_thread() const {
        if (router_thread != "auto") return router_thread == "yes";
        return !data_dir.empty() && sync != "none";
    }
    // Access control (common/acl): Mosquitto-format acl_file, enforced by
    // the router, read again on SIGHUP; empty: none (every client may do
    // anything).
    std::string acl_file;  // --acl-file FILE
};

struct common_options {
    std::string log_level = "info";  // --log-level trace|debug|info|warn|error
    // Liveness between the tiers: each side sends a heartbeat every interval
    // and deems the other dead after the timeout without one.
    std::uint32_t heartbeat_interval_ms = 1000;  // --heartbeat-interval MS (50..60000)
    std::uint32_t peer_timeout_ms = 5000;        // --peer-timeout MS (> 2 x heartbeat interval)
    // Router names in --routers are resolved again this often (each name may
    // stand for several routers, one per address).
    std::uint32_t discovery_interval_ms = 5000;  // --discovery-interval MS (100..3600000)
    // ZeroMQ high-water mark between the tiers, in events, per peer: past it a
    // sender queues in its own memory and stops reading from its clients.
    std::size_t queue_limit = 10000;  // --queue-limit N (100..10000000)
    // ZeroMQ PUB endpoint of the statistics snapshots (docs/stats.md);
    // empty: disabled (--stats none). The default depends on the program
    // (default_stats_endpoint) so a router and a frontend may share a host.
    std::string stats;  // --stats ENDPOINT|none
};

// broker = frontend and router options, without --routers and --bind (the
// tiers talk over inproc://). Options of other programs are rejected on the
// command line and in the config file, and ignored in the environment.
// Only the option sets of `which` are filled; the others keep their defaults
// (frontend listeners stay empty for the router).
enum class program { frontend, router, broker };

// --stats defaults: tcp://0.0.0.0:7100 (mqtt-router), :7101 (mqtt-frontend),
// :7102 (mqtt-broker).
std::string_view default_stats_endpoint(program which);

struct options {
    common_options common;
    frontend_options frontend;
    router_options router;
};

struct parse_result {
    std::optional<options> opts;  // set when parsed and valid
    std::string message;          // help or version text, or one error line; no final '\n'
    int exit_code = 0;            // 0 for options, help and version; 2 for errors
};

// `envp`: null-terminated "NAME=value" array, as main's third argument or
// `environ`; may be null.
parse_result parse(program which, int argc, const char* const argv[], const char* const* envp);

}  // namespace config
