#include "common/config/sources.hpp"

#include <algorithm>
#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace config::detail {
namespace {

constexpr unsigned fe = 1u << static_cast<unsigned>(program::frontend);
constexpr unsigned rt = 1u << static_cast<unsigned>(program::router);
constexpr unsigned bk = 1u << static_cast<unsigned>(program::broker);
constexpr unsigned all = fe | rt | bk;

// clang-format off
constexpr option_spec table[] = {
    {"help", 'h', arity::flag, all, "", "print this help and exit"},
    {"version", 0, arity::flag, all, "", "print the version and exit"},
    {"config", 'c', arity::one, all, "FILE", "read options from FILE: one 'name = value' per line"},
    {"log-level", 0, arity::one, all, "LEVEL", "trace, debug, info, warn or error (default: info)"},
    {"heartbeat-interval", 0, arity::one, all, "MS",
     "heartbeat between frontends and routers, 50..60000 (default: 1000)"},
    {"peer-timeout", 0, arity::one, all, "MS",
     "a frontend or router silent this long is dead, > 2 x heartbeat (default: 5000)"},
    {"discovery-interval", 0, arity::one, all, "MS",
     "look router host names up again this often, 100..3600000 (default: 5000)"},
    {"queue-limit", 0, arity::one, all, "N",
     "events queued in ZeroMQ per peer between the tiers, 100..10000000 (default: 10000)"},
    {"stats", 0, arity::one, all, "ENDPOINT",
     "ZeroMQ PUB endpoint of the statistics snapshots, tcp://HOST:PORT or ipc://PATH, or 'none' "
     "(default: tcp://0.0.0.0:7100 router, :7101 frontend, :7102 broker)"},
    {"listen", 0, arity::many, fe | bk, "URL",
     "MQTT listener, tls://HOST:PORT, wss://HOST:PORT/PATH (MQTT over WebSocket, PATH default "
     "/mqtt), or unencrypted for development only tcp://HOST:PORT, ws://HOST:PORT/PATH; "
     "repeatable (default: tls://0.0.0.0:8885)"},
    {"tls-cert", 0, arity::one, fe | bk, "FILE", "PEM certificate chain (required with a tls or wss listener)"},
    {"tls-key", 0, arity::one, fe | bk, "FILE", "PEM private key (required with a tls or wss listener)"},
    {"password-file", 0, arity::one, fe | bk, "FILE", "Mosquitto-format password file"},
    {"rsa-key", 0, arity::one, fe | bk, "FILE",
     "PEM RSA public (or private) key of the RSA password scheme"},
    {"tls-ca", 0, arity::one, fe | bk, "FILE",
     "PEM CA certificates that client certificates must chain to; a tls or wss client that "
     "presents a certificate is verified against them (a bad one fails the handshake)"},
    {"require-client-cert", 0, arity::toggle, fe | bk, "",
     "tls and wss clients must present a certificate signed by --tls-ca, else the handshake "
     "fails (needs --tls-ca)"},
    {"use-identity-as-username", 0, arity::toggle, fe | bk, "",
     "on tls and wss listeners the client certificate's subject CN is the MQTT username and "
     "authenticates the client; its CONNECT username and password are ignored (needs "
     "--require-client-cert)"},
    {"max-packet-size", 0, arity::one, fe | bk, "BYTES",
     "largest accepted packet, 1..268435460 (default: 16777216)"},
    {"max-connect-packet-size", 0, arity::one, fe | bk, "BYTES",
     "largest packet before CONNECT is accepted (default: 262144)"},
    {"connect-timeout", 0, arity::one, fe | bk, "SECONDS",
     "close connections that send no CONNECT in time, 1..86400 (default: 10)"},
    {"client-write-buffer", 0, arity::one, fe | bk, "BYTES",
     "unwritten bytes for one client beyond which its QoS 0 deliveries are dropped (slow "
     "consumer), 4096..1073741824 (default: 262144)"},
    {"client-write-timeout", 0, arity::one, fe | bk, "SECONDS",
     "close a client whose socket takes no bytes for this long while output waits, 1..3600 "
     "(default: 60)"},
    {"max-connections", 0, arity::one, fe | bk, "N",
     "client connections this process holds; one more is closed at accept, before TLS, 0 for no "
     "limit, 0..10000000 (default: 100000)"},
    {"max-connections-per-address", 0, arity::one, fe | bk, "N",
     "client connections from one source address (IPv6: one /64) this process holds; one more "
     "is closed at accept, 0 for no limit, 0..10000000 (default: 1000)"},
    {"connection-rate", 0, arity::one, fe | bk, "N",
     "new client connections accepted per second (bursts of N); beyond it accepting pauses and "
     "new connections wait in the kernel's queue, 0 for no limit, 0..1000000 (default: 0)"},
    {"failed-login-delay", 0, arity::one, fe | bk, "SECONDS",
     "after a failed login (CONNACK 4 or 5) the next CONNECTs from that source address wait "
     "1 s, then 2, 4, ... up to SECONDS; 0 turns it off, 0..3600 (default: 30)"},
    {"exempt-addresses", 0, arity::many, fe | bk, "RANGES",
     "source addresses (CIDR ranges, comma-separated or repeated) the per-address limits "
     "(--max-connections-per-address, --failed-login-delay) do not apply to, or 'none' "
     "(default: 127.0.0.0/8,::1)"},
    {"max-topic-length", 0, arity::one, fe | bk, "BYTES",
     "longest topic name (PUBLISH, will: longer closes the connection) and SUBSCRIBE filter "
     "(longer is refused, 0x80), 1..65535 (default: 65535)"},
    {"max-topic-levels", 0, arity::one, fe | bk, "N",
     "most levels ('/'-separated parts) of a topic name or SUBSCRIBE filter, same treatment, "
     "1..65535 (default: 128)"},
    {"frontend-id", 0, arity::one, fe | bk, "ID", "name of this frontend (default: HOSTNAME-PID)"},
    {"console", 0, arity::one, fe | bk, "on|off",
     "serve the web console (GET /) on wss and ws listeners (default: on)"},
    {"routers", 0, arity::many, fe | rt, "ENDPOINTS",
     "routers, tcp://HOST:PORT, comma-separated or repeated; a frontend connects to them (required; "
     "a HOST name stands for every address it resolves to), a router forwards accepted messages to "
     "them (its own endpoint may be listed)"},
    {"bind", 0, arity::one, rt, "ENDPOINT",
     "ZeroMQ endpoint frontends connect to (default: tcp://0.0.0.0:7000)"},
    {"max-queued-messages", 0, arity::one, rt | bk, "N",
     "messages queued per offline or slow session, 1..4294967295 (default: 1000)"},
    {"max-inflight-messages", 0, arity::one, rt | bk, "N",
     "unacknowledged QoS 1/2 messages per session, 1..65535 (default: 20)"},
    {"sys-interval", 0, arity::one, rt | bk, "SECONDS",
     "publish the $SYS/broker/... topics (cluster totals, retained) this often, 0 to turn them "
     "off, 0..86400 (default: 10)"},
    {"router-id", 0, arity::one, rt | bk, "ID", "name of this router (default: HOSTNAME-PID)"},
    {"router-thread", 0, arity::one, bk, "auto|yes|no",
     "run the router on a thread of its own (yes) or on the frontend's thread (no: no hand-over "
     "between threads per message); auto: its own thread only when the store syncs to disk "
     "(--data-dir with --sync batch or always), so a sync never stalls client I/O (default: auto)"},
    {"max-queued-bytes", 0, arity::one, rt | bk, "BYTES",
     "payload bytes queued per offline or slow session, 0 for no limit (default: 0)"},
    {"max-queued-bytes-total", 0, arity::one, rt | bk, "BYTES",
     "payload bytes queued in all sessions of a router, 0 for no limit (default: 0)"},
    {"max-retained-messages", 0, arity::one, rt | bk, "N",
     "retained topics kept; a new one beyond it is delivered but not kept, 0 for no limit "
     "(default: 0)"},
    {"max-subscriptions-per-client", 0, arity::one, rt | bk, "N",
     "subscriptions one session may hold; a new filter beyond it is refused (SUBACK 0x80), 0 "
     "for no limit (default: 10000)"},
    {"max-forward-messages", 0, arity::one, rt, "N",
     "QoS 1/2 and retained messages kept for a peer router until it acknowledges them (a dead "
     "peer's outbox grows until it returns; beyond it the oldest are dropped and counted), 0 for "
     "no limit (default: 100000)"},
    {"max-forward-bytes", 0, arity::one, rt, "BYTES",
     "the same in payload bytes, per peer, 0 for no limit (default: 268435456)"},
    {"session-expiry", 0, arity::one, rt | bk, "SECONDS",
     "remove a persistent session (and its queue) offline this long, 0 for never (default: 0)"},
    {"data-dir", 0, arity::one, rt | bk, "DIR",
     "directory of the durable store (sessions, queues, retained messages), or 'none' to keep "
     "them in memory only (default: none)"},
    {"sync", 0, arity::one, rt | bk, "POLICY",
     "when the store syncs to disk before acknowledging: always (each event), batch (once per "
     "group of events) or none (the OS decides; survives a crash of the process, not of the "
     "machine) (default: batch)"},
    {"store-recover", 0, arity::one, rt | bk, "yes|no",
     "a damaged store is moved aside to DIR.damaged-TIME and a fresh one started (default: no)"},
    {"acl-file", 0, arity::one, rt | bk, "FILE",
     "access control list in Mosquitto's acl_file format (user, topic [read|write|readwrite|deny] "
     "FILTER, pattern with %u and %c); whatever it does not grant is denied; read again on "
     "SIGHUP (default: none, every client may publish and subscribe to anything)"},
};
// clang-format on

std::string trim(std::string_view s) {
    auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return std::string(s);
}

// Adds `value` (split at commas for repeatable options) to `out`.
bool add_value(layer& out, const option_spec& spec, std::string_view value,
               const std::string& where, std::string& error) {
    auto& values = out[std::string(spec.name)];
    if (spec.kind == arity::flag) {
        values.push_back({"", where});
        return true;
    }
    if ((spec.kind == arity::one || spec.kind == arity::toggle) && !values.empty()) {
        error = where + ": given more than once";
        return false;
    }
    std::size_t added = 0;
    std::size_t start = 0;
    while (start <= value.size()) {
        auto end = spec.kind == arity::many ? value.find(',', start) : std::string_view::npos;
        if (end == std::string_view::npos) end = value.size();
        auto piece = trim(value.substr(start, end - start));
        if (!piece.empty()) {
            values.push_back({piece, where});
            ++added;
        }
        start = end + 1;
    }
    if (added == 0) {
        error = where + ": needs a value";
        return false;
    }
    return true;
}

po::options_description make_description(program which, bool only_applicable) {
    po::options_description desc("Options", 100, 50);
    for (const auto& spec : table) {
        if (only_applicable && !applies(spec, which)) continue;
        std::string names(spec.name);
        if (spec.short_name) names += std::string(",") + spec.short_name;
        std::string help(spec.help);
        if (spec.kind == arity::flag || spec.kind == arity::toggle) {
            desc.add_options()(names.c_str(), help.c_str());
        } else {
            auto* semantic = po::value<std::string>();
            semantic->value_name(std::string(spec.value_name));
            desc.add_options()(names.c_str(), semantic, help.c_str());
        }
    }
    return desc;
}

}  // namespace

std::span<const option_spec> option_table() {
    return table;
}

std::string unreadable_because(const std::string& path) {
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found) return "no such file";
    if (ec) return "cannot be read: " + ec.message();
    if (std::filesystem::is_directory(status)) return "is a directory";
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::string("cannot be read: ") + std::strerror(errno);
    return {};
}

const option_spec* find_option(std::string_view name) {
    for (const auto& spec : table)
        if (spec.name == name) return &spec;
    return nullptr;
}

bool applies(const option_spec& spec, program which) {
    return (spec.programs & (1u << static_cast<unsigned>(which))) != 0;
}

std::string_view program_name(program which) {
    switch (which) {
        case program::frontend:
            return "mqtt-frontend";
        case program::router:
            return "mqtt-router";
        case program::broker:
            return "mqtt-broker";
    }
    return "mqtt";
}

std::string env_name(std::string_view option_name) {
    std::string name = "MQTT_";
    for (char c : option_name)
        name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

bool read_command_line(program which, int argc, const char* const argv[], layer& out,
                       std::string& error) {
    // Every option is known to the parser so that an option of another
    // program gets a precise message instead of "unknown option".
    auto desc = make_description(which, false);
    po::parsed_options parsed(&desc);
    try {
        // No prefix guessing: "--list" must not silently mean "--listen".
        auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
        parsed = po::command_line_parser(argc, argv).options(desc).style(style).run();
    } catch (const po::unknown_option& e) {
        error = "unknown option '" + e.get_option_name() + "'";
        return false;
    } catch (const po::invalid_command_line_syntax& e) {
        auto name = e.get_option_name();
        switch (e.kind()) {
            case po::invalid_syntax::missing_parameter:
                error = name + ": needs a value";
                break;
            case po::invalid_syntax::extra_parameter:
                error = name + ": takes no value";
                break;
            default:
                error = e.what();
                break;
        }
        return false;
    } catch (const po::error& e) {
        error = e.what();
        return false;
    }
    for (const auto& option : parsed.options) {
        if (option.string_key.empty()) {
            auto token = option.original_tokens.empty() ? std::string() : option.original_tokens[0];
            error = "unexpected argument '" + token + "'";
            return false;
        }
        const auto* spec = find_option(option.string_key);
        std::string where = "--" + option.string_key;
        if (!applies(*spec, which)) {
            error = where + ": not an option of " + std::string(program_name(which));
            return false;
        }
        auto value = option.value.empty() ? std::string() : option.value.front();
        if (spec->kind == arity::toggle) value = "yes";  // a switch given: on
        if (!add_value(out, *spec, value, where, error)) return false;
    }
    return true;
}

bool read_environment(program which, const char* const* envp, layer& out, std::string& error) {
    if (!envp) return true;
    for (; *envp; ++envp) {
        std::string_view entry(*envp);
        if (!entry.starts_with("MQTT_")) continue;
        auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        auto name = entry.substr(0, eq);
        auto value = entry.substr(eq + 1);
        for (const auto& spec : table) {
            if (spec.kind == arity::flag || !applies(spec, which) || env_name(spec.name) != name)
                continue;
            if (trim(value).empty()) break;  // set but empty: treated as unset
            if (!add_value(out, spec, value, std::string(name), error)) return false;
            break;
        }
    }
    return true;
}

bool read_config_file(program which, const std::string& path, layer& out, std::string& error) {
    std::string prefix = "config file " + path + ": ";
    if (auto why = unreadable_because(path); !why.empty()) {
        error = prefix + why;
        return false;
    }
    std::ifstream in(path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // UTF-8 BOM
        std::string at = prefix + "line " + std::to_string(number) + ": ";
        // '#' starts a comment at the start of a line or after white space.
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (line[i] == '#' &&
                (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])))) {
                line.erase(i);
                break;
            }
        }
        auto text = trim(line);
        if (text.empty()) continue;
        auto eq = text.find('=');
        auto key = trim(std::string_view(text).substr(0, eq == std::string::npos ? 0 : eq));
        if (key.empty()) {
            error = at + "expected 'name = value', got '" + text + "'";
            return false;
        }
        auto value = trim(std::string_view(text).substr(eq + 1));
        const auto* spec = find_option(key);
        if (!spec) {
            error = at + "unknown option '" + key + "'";
            return false;
        }
        if (spec->kind == arity::flag || spec->name == "config") {
            error = at + "'" + key + "' cannot be used in a config file";
            return false;
        }
        if (!applies(*spec, which)) {
            error = at + "'" + key + "' is not an option of " + std::string(program_name(which));
            return false;
        }
        if (!add_value(out, *spec, value, at + key, error)) return false;
    }
    if (in.bad()) {
        error = prefix + "cannot be read: " + std::strerror(errno);
        return false;
    }
    return true;
}

layer merge(std::initializer_list<const layer*> by_precedence) {
    layer merged;
    for (const auto* source : by_precedence)
        for (const auto& [name, values] : *source) merged.try_emplace(name, values);
    return merged;
}

std::string help_text(program which) {
    std::ostringstream out;
    out << "Usage: " << program_name(which) << " [OPTIONS]\n";
    switch (which) {
        case program::frontend:
            out << "MQTT frontend: terminates TLS, parses MQTT, authenticates clients and "
                   "forwards\n"
                   "their traffic to routers over ZeroMQ.\n";
            break;
        case program::router:
            out << "MQTT router: holds subscriptions, sessions, retained messages and wills for "
                   "the\n"
                   "frontends connected to it over ZeroMQ.\n";
            break;
        case program::broker:
            out << "MQTT broker: a frontend and a router in one process.\n";
            break;
    }
    out << "\n" << make_description(which, true) << "\n";
    out << "Every option except --help and --version can also be given as a line 'name = value'\n"
           "in the --config file (or MQTT_CONFIG) and as an environment variable MQTT_NAME\n"
           "(e.g. MQTT_TLS_CERT). Precedence: command line, environment, config file, defaults.\n";
    return out.str();
}

}  // namespace config::detail
