// mqtt-bench's command line: what to target, which scenario, how hard and for
// how long. parse_options() checks types, ranges and combinations and never
// throws: a bad option gives one line naming it and exit code 2, --help the
// usage text and exit code 0.
//
// Pure code apart from std::random_device (run id) and
// std::thread::hardware_concurrency(); safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/config/listener_url.hpp"

namespace bench {

enum class scenario { p2p, fanout, fanin, storm };
const char* name_of(scenario s);

struct bench_options {
    // Target: mqtt:// (= tcp://), mqtts:// (= tls://), ws://, wss:// (config::listener_url).
    config::listener_url url;
    std::optional<std::string> username, password;
    std::string cafile;     // --cafile: CA to verify the server (default: system store)
    bool insecure = false;  // --insecure: no certificate or host name check

    scenario kind = scenario::p2p;
    unsigned publishers = 0;     // per scenario default: p2p 10, fanout 1, fanin 10
    unsigned subscribers = 0;    // p2p = publishers, fanout 10, fanin 1
    unsigned connections = 100;  // storm: idle connections to open and hold
    std::uint8_t qos = 0;
    std::size_t payload = 64;  // bytes, at least the payload header
    double rate = 10;          // open loop: messages per second per publisher
    bool closed_loop = false;  // as fast as possible, `inflight` outstanding per publisher
    unsigned inflight = 100;
    double warmup_s = 1, duration_s = 10, drain_s = 2;
    double connect_rate = 1000;     // new connections per second (all threads together)
    double connect_timeout_s = 10;  // per connection: TCP + TLS + WebSocket + CONNACK (+ SUBACK)
    unsigned keepalive_s = 60;
    bool clean_session = true;     // --persistent: false, with stable client ids
    std::string topic_prefix;      // default bench/<run id>/
    std::string client_id_prefix;  // default mqtt-bench-<run id>- (clean), mqtt-bench- (persistent)
    bool json = false;
    std::uint64_t seed = 0;     // schedule jitter; random when not given
    unsigned threads = 0;       // default: hardware concurrency, at most 8
    std::string run_id;         // 8 hex digits, random per run
    std::uint32_t run_tag = 0;  // the run id as a number (payload header)
};

struct parse_outcome {
    std::optional<bench_options> opts;
    std::string message;  // usage text or one error line, no final newline
    int exit_code = 0;    // 0: options or --help; 2: bad option
};

parse_outcome parse_options(int argc, const char* const argv[]);

}  // namespace bench
