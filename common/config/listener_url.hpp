// Parsing of the addresses given in options: MQTT listener URLs (--listen) and
// ZeroMQ endpoints (--routers, --bind).
//
// Listener URLs look like "tls://127.0.0.1:8885", "tcp://0.0.0.0:1883" or
// "tls://[::1]:8885". The parser understands scheme://host:port[/path] in
// general (so ws:// and wss:// can be enabled later) but accepts only the tls
// and tcp schemes for now. It does not resolve host names.
//
// Pure functions, no state; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace config {

struct listener_url {
    std::string scheme;      // "tls" or "tcp" (lower case)
    std::string host;        // "0.0.0.0", "::1" (no brackets), "localhost"
    std::uint16_t port = 0;  // 1..65535
    std::string path;        // empty for tls and tcp
    std::string text;        // canonical form: "tls://[::1]:8885"

    bool is_ipv6() const { return host.find(':') != std::string::npos; }
};

// Returns the parsed URL, or nothing with `error` set to the reason only
// (e.g. "scheme must be tls or tcp"); the caller prefixes the option and value.
std::optional<listener_url> parse_listener(std::string_view text, std::string& error);

// Checks a ZeroMQ endpoint: "tcp://HOST:PORT" ("*" as HOST only when `bind`)
// or "ipc://PATH". On failure returns false with `error` set to the reason.
bool check_zmq_endpoint(std::string_view endpoint, bool bind, std::string& error);

}  // namespace config
