#include "tools/mqtt-bench/options.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tools/mqtt-bench/payload.hpp"

namespace bench {
namespace po = boost::program_options;

const char* name_of(scenario s) {
    switch (s) {
        case scenario::p2p:
            return "p2p";
        case scenario::fanout:
            return "fanout";
        case scenario::fanin:
            return "fanin";
        case scenario::storm:
            return "storm";
    }
    return "?";
}

namespace {

constexpr const char* usage_head =
    "Usage: mqtt-bench --url URL [options]\n"
    "MQTT 3.1.1 load generator. Connects only to --url and stops by itself after\n"
    "connect phase + warmup + duration + drain (storm: connect phase + duration).\n"
    "URL: mqtt://HOST:PORT (plain TCP), mqtts://HOST:PORT (TLS),\n"
    "     ws://HOST:PORT/PATH or wss://HOST:PORT/PATH (WebSocket, subprotocol mqtt).\n"
    "Scenarios: p2p (publisher i -> topic i -> subscriber i), fanout (publishers ->\n"
    "one topic -> every subscriber), fanin (publisher i -> topic i, subscribers on\n"
    "a wildcard), storm (open --connections idle connections and hold them).\n"
    "Exit code: 0 run completed, 1 a connection failed or was lost, 2 bad option.";

struct failure {
    std::string line;
};

[[noreturn]] void fail(std::string line) {
    throw failure{std::move(line)};
}

// Ranges of numeric options; the message names the option.
template <class T>
void check_range(const char* name, T value, T low, T high) {
    if (value < low || value > high) {
        std::ostringstream s;
        s << "--" << name << " must be from " << low << " to " << high << " (got " << value << ")";
        fail(s.str());
    }
}

std::string random_run_id(std::uint32_t& tag) {
    std::random_device rd;
    tag = static_cast<std::uint32_t>(rd());
    if (tag == 0) tag = 1;
    char text[9];
    std::snprintf(text, sizeof text, "%08x", tag);
    return text;
}

config::listener_url parse_url(const std::string& text) {
    std::string mapped = text;
    if (auto sep = text.find("://"); sep != std::string::npos) {
        std::string scheme = text.substr(0, sep);
        std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
        if (scheme == "mqtt") mapped = "tcp" + text.substr(sep);
        if (scheme == "mqtts") mapped = "tls" + text.substr(sep);
    }
    std::string error;
    auto url = config::parse_listener(mapped, error);
    if (!url) {
        if (error.starts_with("scheme must")) error = "scheme must be mqtt, mqtts, ws or wss";
        fail("--url '" + text + "': " + error);
    }
    return *url;
}

}  // namespace

parse_outcome parse_options(int argc, const char* const argv[]) {
    bench_options o;
    std::string url, kind;
    unsigned qos = 0;
    std::string username, password;
    std::uint64_t seed = 0;

    po::options_description target("Target");
    target.add_options()("help,h", "this text")(
        "url", po::value(&url), "broker URL (required), e.g. mqtts://127.0.0.1:8885")(
        "username,u", po::value(&username), "MQTT user name")("password,P", po::value(&password),
                                                              "MQTT password (needs --username)")(
        "cafile", po::value(&o.cafile), "CA certificate (PEM) to verify the server with")(
        "insecure", po::bool_switch(&o.insecure), "do not verify the server certificate");

    po::options_description load("Load");
    load.add_options()("scenario", po::value(&kind)->default_value("p2p"),
                       "p2p | fanout | fanin | storm")(
        "publishers", po::value(&o.publishers), "publishers (default: p2p 10, fanout 1, fanin 10)")(
        "subscribers", po::value(&o.subscribers),
        "subscribers (default: p2p = publishers, fanout 10, fanin 1)")(
        "connections", po::value(&o.connections)->default_value(100),
        "storm: idle connections to open and hold")("qos", po::value(&qos)->default_value(0),
                                                    "0, 1 or 2 (publish and subscribe)")(
        "payload", po::value(&o.payload)->default_value(64),
        "payload bytes (at least 25: publisher id, sequence, send time)")(
        "rate", po::value(&o.rate)->default_value(10),
        "open loop: messages per second per publisher, on a fixed schedule")(
        "closed-loop", po::bool_switch(&o.closed_loop),
        "as fast as possible, at most --inflight outstanding per publisher")(
        "inflight", po::value(&o.inflight), "closed loop window (default 100)")(
        "clean", "clean sessions (the default)")("persistent",
                                                 "clean_session=0 with stable client ids")(
        "topic-prefix", po::value(&o.topic_prefix), "default bench/<random run id>/")(
        "client-id-prefix", po::value(&o.client_id_prefix),
        "default mqtt-bench-<run id>- (mqtt-bench- with --persistent)");

    po::options_description timing("Timing");
    timing.add_options()("warmup", po::value(&o.warmup_s)->default_value(1),
                         "seconds of load before measuring")(
        "duration", po::value(&o.duration_s)->default_value(10),
        "measured seconds (storm: how long to hold)")(
        "drain", po::value(&o.drain_s)->default_value(2),
        "at most this many seconds to wait for stragglers after the last send")(
        "connect-rate", po::value(&o.connect_rate)->default_value(1000),
        "new connections per second")(
        "connect-timeout", po::value(&o.connect_timeout_s)->default_value(10),
        "seconds per connection for TCP + TLS + WebSocket + CONNACK (+ SUBACK)")(
        "keepalive", po::value(&o.keepalive_s)->default_value(60), "MQTT keep alive, seconds");

    po::options_description output("Output and execution");
    output.add_options()("json", po::bool_switch(&o.json), "print one JSON object (README.md)")(
        "seed", po::value(&seed), "seed of the schedule jitter (default random)")(
        "threads", po::value(&o.threads), "worker threads (default: cores, at most 8)");

    po::options_description all;
    all.add(target).add(load).add(timing).add(output);

    parse_outcome out;
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).run(), vm);
        po::notify(vm);
        if (vm.count("help")) {
            std::ostringstream s;
            s << usage_head << "\n" << all;
            out.message = s.str();
            while (!out.message.empty() && out.message.back() == '\n') out.message.pop_back();
            return out;
        }
        if (url.empty()) fail("--url is required (e.g. --url mqtts://127.0.0.1:8885)");
        o.url = parse_url(url);

        if (vm.count("username")) o.username = username;
        if (vm.count("password")) {
            if (!o.username) fail("--password needs --username");
            o.password = password;
        }
        if (!o.cafile.empty() && o.insecure) fail("--cafile and --insecure exclude each other");
        if (!o.cafile.empty() && !std::ifstream(o.cafile))
            fail("--cafile '" + o.cafile + "' cannot be read");

        if (kind == "p2p")
            o.kind = scenario::p2p;
        else if (kind == "fanout")
            o.kind = scenario::fanout;
        else if (kind == "fanin")
            o.kind = scenario::fanin;
        else if (kind == "storm")
            o.kind = scenario::storm;
        else
            fail("--scenario must be p2p, fanout, fanin or storm (got '" + kind + "')");

        const bool pubs_given = vm.count("publishers") > 0;
        const bool subs_given = vm.count("subscribers") > 0;
        switch (o.kind) {
            case scenario::p2p:
                if (!pubs_given) o.publishers = subs_given ? o.subscribers : 10;
                if (!subs_given) o.subscribers = o.publishers;
                if (o.publishers != o.subscribers)
                    fail("--publishers and --subscribers must be equal for p2p (pairs)");
                break;
            case scenario::fanout:
                if (!pubs_given) o.publishers = 1;
                if (!subs_given) o.subscribers = 10;
                break;
            case scenario::fanin:
                if (!pubs_given) o.publishers = 10;
                if (!subs_given) o.subscribers = 1;
                break;
            case scenario::storm:
                if (pubs_given || subs_given)
                    fail("--publishers/--subscribers do not apply to storm (use --connections)");
                o.publishers = o.subscribers = 0;
                check_range("connections", o.connections, 1u, 1'000'000u);
                break;
        }
        if (o.kind != scenario::storm) {
            check_range("publishers", o.publishers, 1u, 100'000u);
            check_range("subscribers", o.subscribers, 1u, 100'000u);
        }

        check_range("qos", qos, 0u, 2u);
        o.qos = static_cast<std::uint8_t>(qos);
        check_range<std::size_t>("payload", o.payload, payload_header_size, 16 * 1024 * 1024);
        check_range("rate", o.rate, 0.001, 1'000'000.0);
        if (vm.count("inflight") && !o.closed_loop) fail("--inflight needs --closed-loop");
        check_range("inflight", o.inflight, 1u, 65'000u);
        check_range("warmup", o.warmup_s, 0.0, 3600.0);
        check_range("duration", o.duration_s, 0.001, 86'400.0);
        check_range("drain", o.drain_s, 0.0, 3600.0);
        check_range("connect-rate", o.connect_rate, 0.1, 1'000'000.0);
        check_range("connect-timeout", o.connect_timeout_s, 0.1, 600.0);
        check_range("keepalive", o.keepalive_s, 0u, 65'535u);
        if (vm.count("clean") && vm.count("persistent"))
            fail("--clean and --persistent exclude each other");
        o.clean_session = vm.count("persistent") == 0;

        o.run_id = random_run_id(o.run_tag);
        if (!vm.count("topic-prefix")) o.topic_prefix = "bench/" + o.run_id + "/";
        if (o.topic_prefix.find_first_of("+#") != std::string::npos)
            fail("--topic-prefix must not contain + or #");
        if (!vm.count("client-id-prefix"))
            o.client_id_prefix = o.clean_session ? "mqtt-bench-" + o.run_id + "-" : "mqtt-bench-";
        o.seed = vm.count("seed") ? seed : std::random_device{}();

        if (vm.count("threads")) {
            check_range("threads", o.threads, 1u, 256u);
        } else {
            o.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
        }
        out.opts = std::move(o);
    } catch (const failure& f) {
        out.message = "mqtt-bench: " + f.line;
        out.exit_code = 2;
    } catch (const po::error& e) {
        out.message = std::string("mqtt-bench: ") + e.what();
        out.exit_code = 2;
    }
    return out;
}

}  // namespace bench
