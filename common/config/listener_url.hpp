// Parsing of the addresses given in options: MQTT listener URLs (--listen) and
// ZeroMQ endpoints (--routers, --bind).
//
// Listener URLs look like "tls://127.0.0.1:8885", "tcp://0.0.0.0:1883",
// "tls://[::1]:8885", "wss://0.0.0.0:9995/mqtt" or "ws://127.0.0.1:9080/mqtt".
// tls and tcp take no path; wss and ws (MQTT over WebSocket) take the HTTP
// path that clients must upgrade on ("/mqtt" when none is given). tcp and ws
// are unencrypted (development only). It does not resolve host names.
//
// Pure functions, no state; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace config {

struct listener_url {
    std::string scheme;      // "tls", "tcp", "wss" or "ws" (lower case)
    std::string host;        // "0.0.0.0", "::1" (no brackets), "localhost"
    std::uint16_t port = 0;  // 1..65535
    std::string path;        // empty for tls and tcp; "/mqtt" (say) for wss and ws
    std::string text;        // canonical form: "tls://[::1]:8885", "wss://0.0.0.0:9995/mqtt"
    bool console = false;    // wss and ws: serve the web console (set from --console, not the URL)

    bool is_ipv6() const { return host.find(':') != std::string::npos; }
    bool uses_tls() const { return scheme == "tls" || scheme == "wss"; }
    bool is_websocket() const { return scheme == "wss" || scheme == "ws"; }
};

// Returns the parsed URL, or nothing with `error` set to the reason only
// (e.g. "scheme must be tls, tcp, wss or ws"); the caller prefixes the option and value.
std::optional<listener_url> parse_listener(std::string_view text, std::string& error);

// Checks a ZeroMQ endpoint: "tcp://HOST:PORT" ("*" as HOST only when `bind`)
// or "ipc://PATH". On failure returns false with `error` set to the reason.
bool check_zmq_endpoint(std::string_view endpoint, bool bind, std::string& error);

}  // namespace config
