#include "common/config/options.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "common/acl/rules.hpp"
#include "common/config/sources.hpp"

namespace config {
namespace {

using detail::layer;
using detail::raw_value;

bool is_id_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

constexpr std::size_t max_id_length = 64;

// HOSTNAME-PID, with characters that are not allowed in ids replaced by '-'.
std::string default_id() {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0')
        std::strcpy(host.data(), "localhost");
    std::string id;
    for (const char* p = host.data(); *p && id.size() < max_id_length - 11; ++p)
        id += is_id_char(*p) ? *p : '-';
    return id + "-" + std::to_string(getpid());
}

// Converts and checks the merged raw values; the first problem found is kept
// in `error` and makes every method return false.
class converter {
  public:
    explicit converter(const layer& merged) : merged_(merged) {}

    std::string error;

    const std::vector<raw_value>* find(std::string_view name) const {
        auto it = merged_.find(name);
        return it == merged_.end() || it->second.empty() ? nullptr : &it->second;
    }

    bool fail(std::string message) {
        if (error.empty()) error = std::move(message);
        return false;
    }

    template <class T>
    bool number(std::string_view name, std::uint64_t lo, std::uint64_t hi, T& out) {
        const auto* values = find(name);
        if (!values) return true;
        const auto& v = values->front();
        std::uint64_t value = 0;
        auto [end, ec] = std::from_chars(v.value.data(), v.value.data() + v.value.size(), value);
        if (ec == std::errc::invalid_argument || end != v.value.data() + v.value.size())
            return fail(v.where + ": '" + v.value + "' is not a number");
        if (ec == std::errc::result_out_of_range || value < lo || value > hi)
            return fail(v.where + ": " + v.value + " is out of range (" + std::to_string(lo) +
                        ".." + std::to_string(hi) + ")");
        out = static_cast<T>(value);
        return true;
    }

    bool readable_file(std::string_view name, std::string& out) {
        const auto* values = find(name);
        if (!values) return true;
        const auto& v = values->front();
        if (auto why = detail::unreadable_because(v.value); !why.empty())
            return fail(v.where + " " + v.value + ": " + why);
        out = v.value;
        return true;
    }

    bool id(std::string_view name, std::string& out) {
        const auto* values = find(name);
        if (!values) {
            out = default_id();
            return true;
        }
        const auto& v = values->front();
        if (v.value.size() > max_id_length ||
            !std::all_of(v.value.begin(), v.value.end(), is_id_char))
            return fail(v.where + ": '" + v.value +
                        "' must be 1 to 64 letters, digits, '.', '_' or '-'");
        out = v.value;
        return true;
    }

    bool log_level(std::string& out) {
        const auto* values = find("log-level");
        if (!values) return true;
        const auto& v = values->front();
        static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error"};
        if (std::find(std::begin(levels), std::end(levels), v.value) == std::end(levels))
            return fail(v.where + ": '" + v.value + "' must be trace, debug, info, warn or error");
        out = v.value;
        return true;
    }

    bool listeners(std::vector<listener_url>& out) {
        const auto* values = find("listen");
        if (!values) {
            std::string ignored;
            out.push_back(*parse_listener("tls://0.0.0.0:8885", ignored));
            return true;
        }
        for (const auto& v : *values) {
            std::string why;
            auto url = parse_listener(v.value, why);
            if (!url) return fail(v.where + " " + v.value + ": " + why);
            for (const auto& other : out)
                if (other.host == url->host && other.port == url->port)
                    return fail(v.where + " " + v.value + ": same address as " + other.text);
            out.push_back(std::move(*url));
        }
        return true;
    }

    bool on_off(std::string_view name, bool& out) {
        const auto* values = find(name);
        if (!values) return true;
        const auto& v = values->front();
        if (v.value != "on" && v.value != "off")
            return fail(v.where + ": '" + v.value + "' must be on or off");
        out = v.value == "on";
        return true;
    }

    // A switch (arity::toggle): "yes" from the command line, or what the
    // config file or environment says.
    bool toggle(std::string_view name, bool& out) {
        const auto* values = find(name);
        if (!values) return true;
        const auto& v = values->front();
        if (v.value == "yes" || v.value == "on" || v.value == "true") {
            out = true;
        } else if (v.value == "no" || v.value == "off" || v.value == "false") {
            out = false;
        } else {
            return fail(v.where + ": '" + v.value + "' must be yes, no, on, off, true or false");
        }
        return true;
    }

    bool endpoints(std::string_view name, bool bind, std::vector<std::string>& out) {
        const auto* values = find(name);
        if (!values) return true;
        for (const auto& v : *values) {
            std::string why;
            if (!check_zmq_endpoint(v.value, bind, why))
                return fail(v.where + " " + v.value + ": " + why);
            if (std::find(out.begin(), out.end(), v.value) != out.end())
                return fail(v.where + " " + v.value + ": given twice");
            out.push_back(v.value);
        }
        return true;
    }

    // A list of address ranges; "none" alone empties it. Not given: `defaults`.
    bool address_ranges(std::string_view name, std::initializer_list<std::string_view> defaults,
                        std::vector<address_range>& out) {
        const auto* values = find(name);
        std::string why;
        if (!values) {
            for (auto text : defaults) out.push_back(*parse_address_range(text, why));
            return true;
        }
        for (const auto& v : *values) {
            if (v.value == "none") {
                if (values->size() > 1)
                    return fail(v.where + ": 'none' cannot be combined with addresses");
                continue;
            }
            auto range = parse_address_range(v.value, why);
            if (!range) return fail(v.where + " " + v.value + ": " + why);
            out.push_back(std::move(*range));
        }
        return true;
    }

    bool stats(program which, std::string& out) {
        const auto* values = find("stats");
        if (!values) {
            out = default_stats_endpoint(which);
            return true;
        }
        const auto& v = values->front();
        if (v.value == "none") {
            out.clear();
            return true;
        }
        std::string why;
        if (!check_zmq_endpoint(v.value, true, why))
            return fail(v.where + " " + v.value + ": " + why);
        out = v.value;
        return true;
    }

  private:
    const layer& merged_;
};

bool convert_frontend(converter& c, program which, frontend_options& fe) {
    if (!c.listeners(fe.listeners)) return false;
    if (!c.readable_file("tls-cert", fe.tls_cert) || !c.readable_file("tls-key", fe.tls_key) ||
        !c.readable_file("password-file", fe.password_file) ||
        !c.readable_file("rsa-key", fe.rsa_key) || !c.readable_file("tls-ca", fe.tls_ca))
        return false;
    for (const auto& url : fe.listeners) {
        if (!url.uses_tls() || (!fe.tls_cert.empty() && !fe.tls_key.empty())) continue;
        std::string missing = fe.tls_cert.empty() && fe.tls_key.empty() ? "--tls-cert and --tls-key"
                              : fe.tls_cert.empty()                     ? "--tls-cert"
                                                                        : "--tls-key";
        return c.fail(url.scheme + " listener " + url.text + " needs " + missing);
    }
    // Mutual TLS (README "Authentication"): a certificate is required only
    // when the CA to check it is known, and stands for a username only when
    // it is required.
    if (!c.toggle("require-client-cert", fe.require_client_cert) ||
        !c.toggle("use-identity-as-username", fe.use_identity_as_username))
        return false;
    if (fe.require_client_cert && fe.tls_ca.empty())
        return c.fail(
            "--require-client-cert needs --tls-ca (the CA that signs client certificates)");
    if (fe.use_identity_as_username && !fe.require_client_cert)
        return c.fail("--use-identity-as-username needs --require-client-cert");
    // Authentication is always on: certificates authenticate clients only
    // where some listener speaks TLS.
    const bool certificates_authenticate =
        fe.use_identity_as_username &&
        std::any_of(fe.listeners.begin(), fe.listeners.end(),
                    [](const listener_url& url) { return url.uses_tls(); });
    if (fe.password_file.empty() && fe.rsa_key.empty() && !certificates_authenticate)
        return c.fail("no credentials configured: give --password-file or --rsa-key");

    if (!c.number("max-packet-size", 1, max_mqtt_packet_size, fe.max_packet_size) ||
        !c.number("max-connect-packet-size", 1, max_mqtt_packet_size, fe.max_connect_packet_size))
        return false;
    if (const auto* given = c.find("max-connect-packet-size")) {
        if (fe.max_connect_packet_size > fe.max_packet_size)
            return c.fail(given->front().where + ": " + given->front().value +
                          " is larger than the maximum packet size (" +
                          std::to_string(fe.max_packet_size) + ")");
    } else {
        fe.max_connect_packet_size = std::min(fe.max_connect_packet_size, fe.max_packet_size);
    }
    if (!c.number("connect-timeout", 1, 86'400, fe.connect_timeout_s)) return false;
    if (!c.number("client-write-buffer", 4096, 1u << 30, fe.client_write_buffer) ||
        !c.number("client-write-timeout", 1, 3600, fe.client_write_timeout_s))
        return false;
    // Limits (README "Limits"): counts and rates 0..10^7 (0: none).
    if (!c.number("max-connections", 0, 10'000'000, fe.max_connections) ||
        !c.number("max-connections-per-address", 0, 10'000'000, fe.max_connections_per_address) ||
        !c.number("connection-rate", 0, 1'000'000, fe.connection_rate) ||
        !c.number("failed-login-delay", 0, 3600, fe.failed_login_delay_s) ||
        !c.address_ranges("exempt-addresses", {"127.0.0.0/8", "::1"}, fe.exempt_addresses) ||
        !c.number("max-topic-length", 1, 65'535, fe.max_topic_length) ||
        !c.number("max-topic-levels", 1, 65'535, fe.max_topic_levels))
        return false;
    if (!c.id("frontend-id", fe.frontend_id)) return false;
    if (!c.on_off("console", fe.console)) return false;
    for (auto& url : fe.listeners) url.console = fe.console && url.is_websocket();

    if (which == program::frontend) {
        if (!c.endpoints("routers", false, fe.routers)) return false;
        if (fe.routers.empty())
            return c.fail("no routers configured: give --routers tcp://HOST:PORT");
    }
    return true;
}

bool convert_store(converter& c, router_options& rt) {
    if (const auto* v = c.find("data-dir")) {
        const auto& given = v->front();
        if (given.value.empty()) return c.fail(given.where + ": empty directory (or 'none')");
        rt.data_dir = given.value == "none" ? std::string() : given.value;
    }
    if (const auto* v = c.find("sync")) {
        const auto& given = v->front();
        if (given.value != "always" && given.value != "batch" && given.value != "none")
            return c.fail(given.where + ": '" + given.value + "' must be always, batch or none");
        rt.sync = given.value;
    }
    if (const auto* v = c.find("router-thread")) {
        const auto& given = v->front();
        if (given.value != "auto" && given.value != "yes" && given.value != "no")
            return c.fail(given.where + ": '" + given.value + "' must be auto, yes or no");
        rt.router_thread = given.value;
    }
    if (const auto* v = c.find("store-recover")) {
        const auto& given = v->front();
        if (given.value != "yes" && given.value != "no")
            return c.fail(given.where + ": '" + given.value + "' must be yes or no");
        rt.store_recover = given.value == "yes";
    }
    return true;
}

// --acl-file: readable, and every line of it valid ("--acl-file FILE:LINE: why").
bool convert_acl(converter& c, router_options& rt) {
    if (!c.readable_file("acl-file", rt.acl_file)) return false;
    if (rt.acl_file.empty()) return true;
    std::string why;
    if (!acl::load_file(rt.acl_file, why))
        return c.fail(c.find("acl-file")->front().where + " " + why);
    return true;
}

bool convert_router(converter& c, program which, router_options& rt) {
    if (which == program::router) {
        std::vector<std::string> bind;
        if (!c.endpoints("bind", true, bind)) return false;
        if (!bind.empty()) rt.bind = bind.front();
        if (!c.endpoints("routers", false, rt.peers)) return false;
    }
    return c.number("max-queued-messages", 1, std::numeric_limits<std::uint32_t>::max(),
                    rt.max_queued_messages) &&
           c.number("max-inflight-messages", 1, 65'535, rt.max_inflight_messages) &&
           c.number("sys-interval", 0, 86'400, rt.sys_interval_s) &&
           c.number("max-queued-bytes", 0, std::numeric_limits<std::int64_t>::max(),
                    rt.max_queued_bytes) &&
           c.number("max-queued-bytes-total", 0, std::numeric_limits<std::int64_t>::max(),
                    rt.max_queued_bytes_total) &&
           c.number("max-retained-messages", 0, std::numeric_limits<std::uint32_t>::max(),
                    rt.max_retained_messages) &&
           c.number("max-subscriptions-per-client", 0, std::numeric_limits<std::uint32_t>::max(),
                    rt.max_subscriptions_per_client) &&
           c.number("max-forward-messages", 0, std::numeric_limits<std::uint32_t>::max(),
                    rt.max_forward_messages) &&
           c.number("max-forward-bytes", 0, std::numeric_limits<std::int64_t>::max(),
                    rt.max_forward_bytes) &&
           c.number("session-expiry", 0, 10u * 365 * 86'400, rt.session_expiry_s) &&
           c.id("router-id", rt.router_id) && convert_store(c, rt) && convert_acl(c, rt);
}

parse_result failure(std::string message) {
    return {std::nullopt, std::move(message), 2};
}

}  // namespace

std::string_view default_stats_endpoint(program which) {
    switch (which) {
        case program::router:
            return "tcp://0.0.0.0:7100";
        case program::frontend:
            return "tcp://0.0.0.0:7101";
        case program::broker:
            return "tcp://0.0.0.0:7102";
    }
    return {};
}

parse_result parse(program which, int argc, const char* const argv[], const char* const* envp) {
    std::string error;
    layer command_line, environment, config_file;
    if (!detail::read_command_line(which, argc, argv, command_line, error)) return failure(error);
    if (command_line.contains("help")) {
        auto text = detail::help_text(which);
        while (text.ends_with('\n')) text.pop_back();
        return {std::nullopt, text, 0};
    }
    if (command_line.contains("version"))
        return {std::nullopt, std::string(detail::program_name(which)) + " " + std::string(version),
                0};
    if (!detail::read_environment(which, envp, environment, error)) return failure(error);

    const layer* config_source = command_line.contains("config")  ? &command_line
                                 : environment.contains("config") ? &environment
                                                                  : nullptr;
    if (config_source) {
        const auto& path = config_source->find("config")->second.front().value;
        if (!detail::read_config_file(which, path, config_file, error)) return failure(error);
    }

    auto merged = detail::merge({&command_line, &environment, &config_file});
    converter c(merged);
    options opts;
    bool ok = c.log_level(opts.common.log_level) &&
              c.number("heartbeat-interval", 50, 60'000, opts.common.heartbeat_interval_ms) &&
              c.number("peer-timeout", 100, 3'600'000, opts.common.peer_timeout_ms) &&
              c.number("discovery-interval", 100, 3'600'000, opts.common.discovery_interval_ms) &&
              c.number("queue-limit", 100, 10'000'000, opts.common.queue_limit) &&
              c.stats(which, opts.common.stats);
    if (ok && opts.common.peer_timeout_ms <= 2 * opts.common.heartbeat_interval_ms)
        return failure("--peer-timeout: " + std::to_string(opts.common.peer_timeout_ms) +
                       " must be more than twice --heartbeat-interval (" +
                       std::to_string(opts.common.heartbeat_interval_ms) + ")");
    if (ok && which != program::router) ok = convert_frontend(c, which, opts.frontend);
    if (ok && which != program::frontend) ok = convert_router(c, which, opts.router);
    if (!ok) return failure(c.error);
    return {std::move(opts), {}, 0};
}

}  // namespace config
