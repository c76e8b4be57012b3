#include "common/config/listener_url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace config {
namespace {

bool is_host_name(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    return std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '.' || c == '_';
    });
}

bool is_ipv6(std::string_view host) {
    std::string copy(host);
    in6_addr addr{};
    return inet_pton(AF_INET6, copy.c_str(), &addr) == 1;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > 65535)
        return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

// Splits "HOST:PORT" or "[V6]:PORT". `star_host` allows "*" as HOST.
bool parse_host_port(std::string_view authority, bool star_host, std::string& host,
                     std::uint16_t& port, std::string& error) {
    std::string_view port_text;
    if (authority.starts_with('[')) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "missing ']' after IPv6 address";
            return false;
        }
        host = authority.substr(1, close - 1);
        if (!is_ipv6(host)) {
            error = "'" + host + "' is not an IPv6 address";
            return false;
        }
        auto rest = authority.substr(close + 1);
        if (rest.empty()) {
            error = "missing port";
            return false;
        }
        if (rest[0] != ':') {
            error = "expected ':' and a port after ']'";
            return false;
        }
        port_text = rest.substr(1);
    } else {
        auto colon = authority.rfind(':');
        if (colon == std::string_view::npos) {
            error = "missing port";
            return false;
        }
        host = authority.substr(0, colon);
        port_text = authority.substr(colon + 1);
        if (host.find(':') != std::string::npos) {
            error = "IPv6 addresses must be in brackets, e.g. [::1]:8885";
            return false;
        }
        if (host.empty()) {
            error = "missing host";
            return false;
        }
        if (!(star_host && host == "*") && !is_host_name(host)) {
            error = "'" + host + "' is not a host name or address";
            return false;
        }
    }
    if (port_text.empty()) {
        error = "missing port";
        return false;
    }
    if (!parse_port(port_text, port)) {
        error = "port '" + std::string(port_text) + "' is not a number from 1 to 65535";
        return false;
    }
    return true;
}

// An absolute URL path without query or fragment: "/", "/mqtt", "/a/b".
// Percent-escapes are not decoded (clients send the path as given here).
bool is_http_path(std::string_view path) {
    if (path.empty() || path[0] != '/' || path.size() > 256) return false;
    return std::all_of(path.begin(), path.end(), [](unsigned char c) {
        return std::isalnum(c) ||
               std::string_view("-._~!$&'()*+,;=:@/%").find(static_cast<char>(c)) !=
                   std::string_view::npos;
    });
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::optional<listener_url> parse_listener(std::string_view text, std::string& error) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        error = "expected SCHEME://HOST:PORT, e.g. tls://0.0.0.0:8885";
        return std::nullopt;
    }
    listener_url url;
    url.scheme = lower(text.substr(0, sep));
    if (url.scheme != "tls" && url.scheme != "tcp" && url.scheme != "wss" && url.scheme != "ws") {
        error = "scheme must be tls, tcp, wss or ws";
        return std::nullopt;
    }
    auto rest = text.substr(sep + 3);
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) url.path = rest.substr(slash);
    if (url.is_websocket()) {
        if (url.path.empty()) url.path = "/mqtt";
        if (!is_http_path(url.path)) {
            error =
                "'" + url.path + "' is not an HTTP path (letters, digits and -._~!$&'()*+,;=:@/%)";
            return std::nullopt;
        }
    } else {
        if (!url.path.empty() && url.path != "/") {
            error = url.scheme + " listeners take no path";
            return std::nullopt;
        }
        url.path.clear();
    }
    if (authority.empty()) {
        error = "missing host";
        return std::nullopt;
    }
    if (!parse_host_port(authority, false, url.host, url.port, error)) return std::nullopt;
    url.text = url.scheme + "://" + (url.is_ipv6() ? "[" + url.host + "]" : url.host) + ":" +
               std::to_string(url.port) + url.path;
    return url;
}

bool check_zmq_endpoint(std::string_view endpoint, bool bind, std::string& error) {
    if (endpoint.starts_with("ipc://")) {
        if (endpoint.size() == 6) {
            error = "missing path after ipc://";
            return false;
        }
        return true;
    }
    if (!endpoint.starts_with("tcp://")) {
        error = "expected tcp://HOST:PORT or ipc://PATH";
        return false;
    }
    std::string host;
    std::uint16_t port = 0;
    return parse_host_port(endpoint.substr(6), bind, host, port, error);
}

}  // namespace config
