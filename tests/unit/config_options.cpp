// Unit tests for common/config: listener URLs, the three option sources
// (command line, MQTT_* environment, config file), their precedence, the
// validation rules and the exact one-line error messages.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/options.hpp"
#include "tests/unit/config_test_support.hpp"

namespace fs = std::filesystem;
using config::program;

using config_test::fails;
using config_test::files;
using config_test::run;
using config_test::tls_args;

namespace {

// Success, and nothing printed.
config::options ok(const config::parse_result& r) {
    BOOST_TEST(r.message.empty());
    return config_test::ok(r);
}

// Joins config-file lines, each ended by '\n'.
std::string lines(std::initializer_list<std::string> text) {
    std::string out;
    for (const auto& line : text) out += line + "\n";
    return out;
}

std::string pid_suffix() {
    return "-" + std::to_string(::getpid());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_options)

// ---------------------------------------------------------------- listener URLs

BOOST_AUTO_TEST_CASE(listener_urls_parse_into_parts_and_canonical_text) {
    struct row {
        const char* in;
        const char* scheme;
        const char* host;
        std::uint16_t port;
        const char* text;
    };
    const row rows[] = {
        {"tls://127.0.0.1:8885", "tls", "127.0.0.1", 8885, "tls://127.0.0.1:8885"},
        {"tcp://0.0.0.0:1883", "tcp", "0.0.0.0", 1883, "tcp://0.0.0.0:1883"},
        {"tls://[::1]:8885", "tls", "::1", 8885, "tls://[::1]:8885"},
        {"tls://[::]:1", "tls", "::", 1, "tls://[::]:1"},
        {"TCP://localhost:65535", "tcp", "localhost", 65535, "tcp://localhost:65535"},
        {"tls://broker.example.com:8885/", "tls", "broker.example.com", 8885,
         "tls://broker.example.com:8885"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.in) {
            std::string error;
            auto url = config::parse_listener(r.in, error);
            BOOST_TEST_REQUIRE(url.has_value());
            BOOST_TEST(error.empty());
            BOOST_TEST(url->scheme == r.scheme);
            BOOST_TEST(url->host == r.host);
            BOOST_TEST(url->port == r.port);
            BOOST_TEST(url->path.empty());
            BOOST_TEST(url->text == r.text);
        }
    }
}

BOOST_AUTO_TEST_CASE(listener_url_errors_name_the_reason) {
    const std::pair<const char*, const char*> rows[] = {
        {"ftp://x:1", "scheme must be tls, tcp, wss or ws"},
        {"wss://0.0.0.0:9995/mqtt?x=1",
         "'/mqtt?x=1' is not an HTTP path (letters, digits and -._~!$&'()*+,;=:@/%)"},
        {"ws://0.0.0.0:9995/a b",
         "'/a b' is not an HTTP path (letters, digits and -._~!$&'()*+,;=:@/%)"},
        {"0.0.0.0:8885", "expected SCHEME://HOST:PORT, e.g. tls://0.0.0.0:8885"},
        {"://x:1", "expected SCHEME://HOST:PORT, e.g. tls://0.0.0.0:8885"},
        {"tls://", "missing host"},
        {"tls://:8885", "missing host"},
        {"tls://localhost", "missing port"},
        {"tls://localhost:", "missing port"},
        {"tls://localhost:0", "port '0' is not a number from 1 to 65535"},
        {"tls://localhost:65536", "port '65536' is not a number from 1 to 65535"},
        {"tls://localhost:88x", "port '88x' is not a number from 1 to 65535"},
        {"tls://::1:8885", "IPv6 addresses must be in brackets, e.g. [::1]:8885"},
        {"tls://[::1:8885", "missing ']' after IPv6 address"},
        {"tls://[1.2.3.4]:8885", "'1.2.3.4' is not an IPv6 address"},
        {"tls://[::1]", "missing port"},
        {"tls://[::1]8885", "expected ':' and a port after ']'"},
        {"tls://bad host:1", "'bad host' is not a host name or address"},
        {"tcp://0.0.0.0:1883/mqtt", "tcp listeners take no path"},
    };
    for (const auto& [in, reason] : rows) {
        BOOST_TEST_CONTEXT(in) {
            std::string error;
            BOOST_TEST(!config::parse_listener(in, error).has_value());
            BOOST_TEST(error == reason);
        }
    }
}

BOOST_AUTO_TEST_CASE(websocket_listener_urls_keep_their_path) {
    struct row {
        const char* in;
        const char* scheme;
        const char* path;
        const char* text;
    };
    const row rows[] = {
        {"wss://0.0.0.0:9995/mqtt", "wss", "/mqtt", "wss://0.0.0.0:9995/mqtt"},
        {"WS://127.0.0.1:9080", "ws", "/mqtt", "ws://127.0.0.1:9080/mqtt"},  // default path
        {"wss://[::1]:443/", "wss", "/", "wss://[::1]:443/"},
        {"wss://h:1/a/b-c", "wss", "/a/b-c", "wss://h:1/a/b-c"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.in) {
            std::string error;
            auto url = config::parse_listener(r.in, error);
            BOOST_TEST_REQUIRE(url.has_value());
            BOOST_TEST(url->scheme == r.scheme);
            BOOST_TEST(url->path == r.path);
            BOOST_TEST(url->text == r.text);
            BOOST_TEST(url->is_websocket());
            BOOST_TEST(url->uses_tls() == (url->scheme == "wss"));
        }
    }
}

// ---------------------------------------------------------------- defaults

BOOST_AUTO_TEST_CASE(broker_defaults) {
    files f;
    auto o = ok(run(program::broker, tls_args(f)));
    BOOST_TEST(o.common.log_level == "info");
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 1u);
    BOOST_TEST(o.frontend.listeners[0].text == "tls://0.0.0.0:8885");
    BOOST_TEST(o.frontend.max_packet_size == 16u * 1024 * 1024);
    BOOST_TEST(o.frontend.max_connect_packet_size == 256u * 1024);
    BOOST_TEST(o.frontend.connect_timeout_s == 10u);
    BOOST_TEST(o.frontend.rsa_key.empty());
    BOOST_TEST(o.frontend.routers.empty());
    BOOST_TEST(o.frontend.frontend_id.ends_with(pid_suffix()));
    BOOST_TEST(o.frontend.frontend_id.size() > pid_suffix().size());
    BOOST_TEST(o.router.bind == "tcp://0.0.0.0:7000");
    BOOST_TEST(o.router.max_queued_messages == 1000u);
    BOOST_TEST(o.router.max_inflight_messages == 20u);
    BOOST_TEST(o.router.router_id.ends_with(pid_suffix()));
}

BOOST_AUTO_TEST_CASE(router_needs_no_options) {
    auto o = ok(run(program::router, {}));
    BOOST_TEST(o.router.bind == "tcp://0.0.0.0:7000");
    BOOST_TEST(o.router.max_queued_messages == 1000u);
    BOOST_TEST(o.router.max_inflight_messages == 20u);
    BOOST_TEST(o.router.router_id.ends_with(pid_suffix()));
    BOOST_TEST(o.frontend.listeners.empty());  // frontend options are not filled for the router
}

BOOST_AUTO_TEST_CASE(wss_listener_needs_a_certificate_and_ws_none) {
    files f;
    fails(run(program::broker, {"--listen", "wss://127.0.0.1:9995/mqtt", "--rsa-key", f.rsa}),
          "wss listener wss://127.0.0.1:9995/mqtt needs --tls-cert and --tls-key");
    auto o = ok(run(program::broker, {"--listen", "ws://127.0.0.1:9080/mqtt", "--rsa-key", f.rsa}));
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 1u);
    BOOST_TEST(o.frontend.listeners[0].path == "/mqtt");
}

BOOST_AUTO_TEST_CASE(tcp_listener_needs_no_certificate) {
    files f;
    auto o = ok(run(program::broker, {"--listen", "tcp://127.0.0.1:1883", "--rsa-key", f.rsa}));
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 1u);
    BOOST_TEST(o.frontend.listeners[0].scheme == "tcp");
    BOOST_TEST(o.frontend.rsa_key == f.rsa);
    BOOST_TEST(o.frontend.tls_cert.empty());
}

BOOST_AUTO_TEST_CASE(connect_limit_follows_a_smaller_packet_limit_when_not_given) {
    files f;
    auto o = ok(run(program::broker, tls_args(f, {"--max-packet-size", "1000"})));
    BOOST_TEST(o.frontend.max_packet_size == 1000u);
    BOOST_TEST(o.frontend.max_connect_packet_size == 1000u);
}

// ---------------------------------------------------------------- each flag

BOOST_AUTO_TEST_CASE(every_broker_flag) {
    files f;
    auto o = ok(run(program::broker, {"--listen",
                                      "tls://127.0.0.1:8885",
                                      "--listen=tcp://[::1]:1883",
                                      "--tls-cert",
                                      f.cert,
                                      "--tls-key",
                                      f.key,
                                      "--password-file",
                                      f.passwd,
                                      "--rsa-key",
                                      f.rsa,
                                      "--max-packet-size",
                                      "268435460",
                                      "--max-connect-packet-size",
                                      "1024",
                                      "--connect-timeout",
                                      "30",
                                      "--frontend-id",
                                      "fe-1",
                                      "--router-id",
                                      "rt_1.a",
                                      "--max-queued-messages",
                                      "4294967295",
                                      "--max-inflight-messages",
                                      "65535",
                                      "--log-level",
                                      "debug"}));
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 2u);
    BOOST_TEST(o.frontend.listeners[0].text == "tls://127.0.0.1:8885");
    BOOST_TEST(o.frontend.listeners[1].text == "tcp://[::1]:1883");
    BOOST_TEST(o.frontend.tls_cert == f.cert);
    BOOST_TEST(o.frontend.tls_key == f.key);
    BOOST_TEST(o.frontend.password_file == f.passwd);
    BOOST_TEST(o.frontend.rsa_key == f.rsa);
    BOOST_TEST(o.frontend.max_packet_size == 268435460u);
    BOOST_TEST(o.frontend.max_connect_packet_size == 1024u);
    BOOST_TEST(o.frontend.connect_timeout_s == 30u);
    BOOST_TEST(o.frontend.frontend_id == "fe-1");
    BOOST_TEST(o.router.router_id == "rt_1.a");
    BOOST_TEST(o.router.max_queued_messages == 4294967295u);
    BOOST_TEST(o.router.max_inflight_messages == 65535u);
    BOOST_TEST(o.common.log_level == "debug");
}

BOOST_AUTO_TEST_CASE(frontend_routers_comma_separated_or_repeated) {
    files f;
    auto o = ok(run(program::frontend,
                    tls_args(f, {"--routers", "tcp://r1:7000, tcp://10.0.0.2:7000,", "--routers",
                                 "ipc:///run/router.sock", "-c", f.write("empty", "")})));
    std::vector<std::string> expected = {"tcp://r1:7000", "tcp://10.0.0.2:7000",
                                         "ipc:///run/router.sock"};
    BOOST_TEST(o.frontend.routers == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(router_bind) {
    BOOST_TEST(ok(run(program::router, {"--bind", "tcp://*:7100"})).router.bind == "tcp://*:7100");
    BOOST_TEST(ok(run(program::router, {"--bind=tcp://[::]:7100"})).router.bind ==
               "tcp://[::]:7100");
    BOOST_TEST(ok(run(program::router, {"--bind", "ipc:///tmp/r"})).router.bind == "ipc:///tmp/r");
}

BOOST_AUTO_TEST_CASE(each_log_level) {
    for (const char* level : {"trace", "debug", "info", "warn", "error"})
        BOOST_TEST(ok(run(program::router, {"--log-level", level})).common.log_level == level);
}

// ---------------------------------------------------------------- config file

BOOST_AUTO_TEST_CASE(config_file_values_comments_and_repeats) {
    files f;
    auto hashed = f.write("pass#words", "dev:x\n");
    auto path = f.write("broker.conf", lines({
                                           "\xEF\xBB\xBF# development broker",
                                           "",
                                           "listen = tls://127.0.0.1:8885",
                                           "  listen=tcp://127.0.0.1:1883   # plain, loopback only",
                                           "tls-cert = " + f.cert,
                                           "tls-key = " + f.key + "\r",
                                           "password-file = " + hashed,
                                           "\t# indented comment",
                                           "max-inflight-messages = 7",
                                           "router-id = r1 # trailing comment",
                                       }));
    auto o = ok(run(program::broker, {"--config", path}));
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 2u);
    BOOST_TEST(o.frontend.listeners[0].text == "tls://127.0.0.1:8885");
    BOOST_TEST(o.frontend.listeners[1].text == "tcp://127.0.0.1:1883");
    BOOST_TEST(o.frontend.tls_cert == f.cert);
    BOOST_TEST(o.frontend.tls_key == f.key);
    BOOST_TEST(o.frontend.password_file == hashed);  // '#' inside a value is not a comment
    BOOST_TEST(o.router.max_inflight_messages == 7u);
    BOOST_TEST(o.router.router_id == "r1");
}

BOOST_AUTO_TEST_CASE(config_file_from_mqtt_config_and_short_option) {
    files f;
    auto a = f.write("a.conf", "rsa-key = " + f.rsa + "\nlisten = tcp://127.0.0.1:1\n");
    auto b = f.write("b.conf", "rsa-key = " + f.rsa + "\nlisten = tcp://127.0.0.1:2\n");
    auto port = [](const config::parse_result& r) { return ok(r).frontend.listeners.at(0).port; };
    BOOST_TEST(port(run(program::broker, {}, {"MQTT_CONFIG=" + a})) == 1);
    BOOST_TEST(port(run(program::broker, {"-c", b}, {"MQTT_CONFIG=" + a})) == 2);
}

// ---------------------------------------------------------------- environment

BOOST_AUTO_TEST_CASE(environment_variables) {
    files f;
    auto o = ok(
        run(program::frontend, {},
            {"PATH=/usr/bin", "MQTT_LISTEN=tcp://127.0.0.1:1883,tls://127.0.0.1:8885",
             "MQTT_TLS_CERT=" + f.cert, "MQTT_TLS_KEY=" + f.key, "MQTT_PASSWORD_FILE=" + f.passwd,
             "MQTT_MAX_PACKET_SIZE=2048", "MQTT_CONNECT_TIMEOUT=3", "MQTT_ROUTERS=tcp://r:7000",
             "MQTT_FRONTEND_ID=edge", "MQTT_LOG_LEVEL=warn",
             // not ours, another program's, empty, or not an option: ignored
             "MQTT_BIN_DIR=/x", "MQTT_BIND=nonsense", "MQTT_MAX_INFLIGHT_MESSAGES=abc",
             "MQTT_RSA_KEY=", "MQTT_HELP=1", "mqtt_listen=ftp://x:1"}));
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 2u);
    BOOST_TEST(o.frontend.listeners[0].text == "tcp://127.0.0.1:1883");
    BOOST_TEST(o.frontend.listeners[1].text == "tls://127.0.0.1:8885");
    BOOST_TEST(o.frontend.tls_cert == f.cert);
    BOOST_TEST(o.frontend.password_file == f.passwd);
    BOOST_TEST(o.frontend.rsa_key.empty());
    BOOST_TEST(o.frontend.max_packet_size == 2048u);
    BOOST_TEST(o.frontend.connect_timeout_s == 3u);
    BOOST_TEST(o.frontend.routers.size() == 1u);
    BOOST_TEST(o.frontend.frontend_id == "edge");
    BOOST_TEST(o.common.log_level == "warn");
}

// ---------------------------------------------------------------- precedence

BOOST_AUTO_TEST_CASE(command_line_over_environment_over_file_over_defaults) {
    files f;
    auto conf = f.write("p.conf", lines({
                                      "max-inflight-messages = 5",
                                      "max-queued-messages = 50",
                                      "listen = tcp://127.0.0.1:1001",
                                      "listen = tcp://127.0.0.1:1002",
                                      "rsa-key = " + f.rsa,
                                  }));
    auto env = std::vector<std::string>{"MQTT_MAX_INFLIGHT_MESSAGES=6",
                                        "MQTT_LISTEN=tcp://127.0.0.1:2001"};

    auto o = ok(run(program::broker, {"--config", conf, "--max-inflight-messages", "7"}, env));
    BOOST_TEST(o.router.max_inflight_messages == 7u);  // command line
    BOOST_TEST(o.router.max_queued_messages == 50u);   // only in the file
    BOOST_TEST(o.frontend.connect_timeout_s == 10u);   // nowhere: default
    // A repeatable option takes all its values from one source.
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 1u);
    BOOST_TEST(o.frontend.listeners[0].port == 2001);

    o = ok(run(program::broker, {"--config", conf}));
    BOOST_TEST(o.router.max_inflight_messages == 5u);
    BOOST_TEST(o.frontend.listeners.size() == 2u);

    o = ok(run(program::broker, {"--config", conf, "--listen", "tcp://127.0.0.1:3001"}, env));
    BOOST_TEST(o.router.max_inflight_messages == 6u);
    BOOST_TEST_REQUIRE(o.frontend.listeners.size() == 1u);
    BOOST_TEST(o.frontend.listeners[0].port == 3001);
}

// ---------------------------------------------------------------- help and version

BOOST_AUTO_TEST_CASE(help_lists_the_options_of_each_program) {
    auto broker = run(program::broker, {"--help", "--no-such-check-after-help-is-parsed-first"});
    fails(broker, "unknown option '--no-such-check-after-help-is-parsed-first'");

    broker = run(program::broker, {"--help"});  // no credentials needed for help
    BOOST_TEST(!broker.opts.has_value());
    BOOST_TEST(broker.exit_code == 0);
    BOOST_TEST(broker.message.starts_with("Usage: mqtt-broker [OPTIONS]\n"));
    BOOST_TEST(!broker.message.ends_with("\n"));
    for (const char* name : {"--listen", "--tls-cert", "--tls-key", "--password-file", "--rsa-key",
                             "--max-packet-size", "--max-connect-packet-size", "--connect-timeout",
                             "--frontend-id", "--max-queued-messages", "--max-inflight-messages",
                             "--router-id", "--log-level", "--config", "--version", "MQTT_"})
        BOOST_TEST(broker.message.find(name) != std::string::npos, name);
    BOOST_TEST(broker.message.find("--routers") == std::string::npos);
    BOOST_TEST(broker.message.find("--bind") == std::string::npos);

    auto frontend = run(program::frontend, {"-h"});
    BOOST_TEST(frontend.exit_code == 0);
    BOOST_TEST(frontend.message.find("--routers") != std::string::npos);
    BOOST_TEST(frontend.message.find("--bind") == std::string::npos);

    auto router = run(program::router, {"--help"});
    BOOST_TEST(router.message.find("--bind") != std::string::npos);
    BOOST_TEST(router.message.find("--listen") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(version) {
    auto r = run(program::router, {"--version"});
    BOOST_TEST(!r.opts.has_value());
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.message == "mqtt-router " + std::string(config::version));
}

// ---------------------------------------------------------------- errors

BOOST_AUTO_TEST_CASE(command_line_errors) {
    files f;
    const std::pair<std::vector<std::string>, std::string> rows[] = {
        {{"--max-inflight-messages", "abc"}, "--max-inflight-messages: 'abc' is not a number"},
        {{"--max-inflight-messages", "-1"}, "--max-inflight-messages: '-1' is not a number"},
        {{"--max-inflight-messages", "12x"}, "--max-inflight-messages: '12x' is not a number"},
        {{"--max-inflight-messages", "0"}, "--max-inflight-messages: 0 is out of range (1..65535)"},
        {{"--max-inflight-messages", "65536"},
         "--max-inflight-messages: 65536 is out of range (1..65535)"},
        {{"--max-queued-messages", "0"},
         "--max-queued-messages: 0 is out of range (1..4294967295)"},
        {{"--max-queued-messages", "99999999999999999999999"},
         "--max-queued-messages: 99999999999999999999999 is out of range (1..4294967295)"},
        {{"--max-packet-size", "268435461"},
         "--max-packet-size: 268435461 is out of range (1..268435460)"},
        {{"--max-connect-packet-size", "0"},
         "--max-connect-packet-size: 0 is out of range (1..268435460)"},
        {{"--max-packet-size", "1000", "--max-connect-packet-size", "2000"},
         "--max-connect-packet-size: 2000 is larger than the maximum packet size (1000)"},
        {{"--connect-timeout", "0"}, "--connect-timeout: 0 is out of range (1..86400)"},
        {{"--listen", "ftp://x:1"}, "--listen ftp://x:1: scheme must be tls, tcp, wss or ws"},
        {{"--listen", "tls://x"}, "--listen tls://x: missing port"},
        {{"--listen", "tls://0.0.0.0:8885", "--listen", "tcp://0.0.0.0:8885"},
         "--listen tcp://0.0.0.0:8885: same address as tls://0.0.0.0:8885"},
        {{"--listen", ""}, "--listen: needs a value"},
        {{"--listen", " , "}, "--listen: needs a value"},
        {{"--lisen", "x"}, "unknown option '--lisen'"},
        {{"--list", "x"}, "unknown option '--list'"},
        {{"stray"}, "unexpected argument 'stray'"},
        {{"--bind", "tcp://*:7000"}, "--bind: not an option of mqtt-broker"},
        {{"--routers", "tcp://r:7000"}, "--routers: not an option of mqtt-broker"},
        {{"--tls-cert", f.cert}, "--tls-cert: given more than once"},
        {{"--log-level", "verbose"},
         "--log-level: 'verbose' must be trace, debug, info, warn or error"},
        {{"--frontend-id", "a b"},
         "--frontend-id: 'a b' must be 1 to 64 letters, digits, '.', '_' or '-'"},
        {{"--router-id", std::string(65, 'r')},
         "--router-id: '" + std::string(65, 'r') +
             "' must be 1 to 64 letters, digits, '.', '_' or '-'"},
    };
    for (const auto& [extra, expected] : rows) {
        BOOST_TEST_CONTEXT(expected) {
            fails(run(program::broker, tls_args(f, extra)), expected);
        }
    }
    // A missing value at the very end of the command line.
    fails(run(program::broker, {"--listen"}), "--listen: needs a value");
    fails(run(program::broker, {"--help=yes"}), "--help: takes no value");
}

BOOST_AUTO_TEST_CASE(credential_and_certificate_errors) {
    files f;
    fails(run(program::broker, {"--tls-cert", f.cert, "--tls-key", f.key}),
          "no credentials configured: give --password-file or --rsa-key");
    fails(run(program::broker, {"--password-file", f.passwd}),
          "tls listener tls://0.0.0.0:8885 needs --tls-cert and --tls-key");
    fails(run(program::broker, {"--password-file", f.passwd, "--tls-key", f.key, "--listen",
                                "tcp://127.0.0.1:1883", "--listen", "tls://[::1]:8885"}),
          "tls listener tls://[::1]:8885 needs --tls-cert");
    fails(run(program::broker, {"--password-file", f.passwd, "--tls-cert", f.cert}),
          "tls listener tls://0.0.0.0:8885 needs --tls-key");

    auto missing = (f.dir / "missing.pem").string();
    fails(run(program::broker,
              {"--password-file", f.passwd, "--tls-cert", missing, "--tls-key", f.key}),
          "--tls-cert " + missing + ": no such file");
    fails(run(program::broker, {"--rsa-key", missing, "--listen", "tcp://127.0.0.1:1"}),
          "--rsa-key " + missing + ": no such file");
    fails(run(program::broker, tls_args(f), {"MQTT_RSA_KEY=" + f.dir.string()}),
          "MQTT_RSA_KEY " + f.dir.string() + ": is a directory");
    fails(run(program::broker, {"--password-file", f.dir.string(), "--listen", "tcp://h:1"}),
          "--password-file " + f.dir.string() + ": is a directory");

    if (::geteuid() != 0) {  // root reads any file
        auto locked = f.write("locked", "x");
        fs::permissions(locked, fs::perms::none);
        fails(run(program::broker, tls_args(f, {"--rsa-key", locked})),
              "--rsa-key " + locked + ": cannot be read: Permission denied");
    }
}

BOOST_AUTO_TEST_CASE(zmq_endpoint_errors) {
    files f;
    fails(run(program::frontend, tls_args(f)),
          "no routers configured: give --routers tcp://HOST:PORT");
    fails(run(program::frontend, tls_args(f, {"--routers", "udp://x:1"})),
          "--routers udp://x:1: expected tcp://HOST:PORT or ipc://PATH");
    fails(run(program::frontend, tls_args(f, {"--routers", "tcp://*:7000"})),
          "--routers tcp://*:7000: '*' is not a host name or address");
    fails(run(program::frontend, tls_args(f, {"--routers", "tcp://a:1,tcp://a:1"})),
          "--routers tcp://a:1: given twice");
    fails(run(program::frontend, tls_args(f, {"--routers", "ipc://"})),
          "--routers ipc://: missing path after ipc://");
    fails(run(program::router, {"--bind", "tcp://0.0.0.0"}), "--bind tcp://0.0.0.0: missing port");
    fails(run(program::router, {"--listen", "tcp://h:1"}),
          "--listen: not an option of mqtt-router");
}

BOOST_AUTO_TEST_CASE(environment_errors_name_the_variable) {
    files f;
    fails(run(program::broker, tls_args(f), {"MQTT_MAX_INFLIGHT_MESSAGES=abc"}),
          "MQTT_MAX_INFLIGHT_MESSAGES: 'abc' is not a number");
    fails(run(program::broker, tls_args(f), {"MQTT_LISTEN=tls://h:1,ftp://x:1"}),
          "MQTT_LISTEN ftp://x:1: scheme must be tls, tcp, wss or ws");
    auto missing = (f.dir / "none.conf").string();
    fails(run(program::broker, tls_args(f), {"MQTT_CONFIG=" + missing}),
          "config file " + missing + ": no such file");
}

BOOST_AUTO_TEST_CASE(config_file_errors_name_file_and_line) {
    files f;
    auto check = [&](const std::string& text, const std::string& expected_after_path) {
        auto path = f.write("bad.conf", text);
        fails(run(program::broker, tls_args(f, {"--config", path})),
              "config file " + path + ": " + expected_after_path);
    };
    check("# ok\nlisten = tls://h:1\nlisen = tls://h:2\n", "line 3: unknown option 'lisen'");
    check("\n\nmax-inflight-messages abc\n",
          "line 3: expected 'name = value', got 'max-inflight-messages abc'");
    check("max-inflight-messages = abc\n", "line 1: max-inflight-messages: 'abc' is not a number");
    check("listen = ftp://x:1\n", "line 1: listen ftp://x:1: scheme must be tls, tcp, wss or ws");
    check("router-id = a\nrouter-id = b\n", "line 2: router-id: given more than once");
    check("listen =\n", "line 1: listen: needs a value");
    check("config = /etc/other.conf\n", "line 1: 'config' cannot be used in a config file");
    check("help = 1\n", "line 1: 'help' cannot be used in a config file");
    check("bind = tcp://*:7000\n", "line 1: 'bind' is not an option of mqtt-broker");
    check("= x\n", "line 1: expected 'name = value', got '= x'");

    auto missing = (f.dir / "missing.conf").string();
    fails(run(program::broker, {"--config", missing}), "config file " + missing + ": no such file");
    fails(run(program::broker, {"--config", f.dir.string()}),
          "config file " + f.dir.string() + ": is a directory");
}

// ---------------------------------------------------------------- cluster options

BOOST_AUTO_TEST_CASE(discovery_interval_and_queue_limit_defaults_for_every_program) {
    files f;
    const config::options all[] = {
        ok(run(program::broker, tls_args(f))),
        ok(run(program::router, {})),
        ok(run(program::frontend, tls_args(f, {"--routers", "tcp://router:7000"}))),
    };
    for (const auto& o : all) {
        BOOST_TEST(o.common.discovery_interval_ms == 5000u);
        BOOST_TEST(o.common.queue_limit == 10000u);
    }
}

BOOST_AUTO_TEST_CASE(discovery_interval_and_queue_limit_from_each_source) {
    files f;
    // Command line, at both ends of each range.
    auto o = ok(run(program::router, {"--discovery-interval", "100", "--queue-limit", "100"}));
    BOOST_TEST(o.common.discovery_interval_ms == 100u);
    BOOST_TEST(o.common.queue_limit == 100u);
    o = ok(run(program::frontend,
               tls_args(f, {"--routers", "tcp://r:1", "--discovery-interval=3600000",
                            "--queue-limit=10000000"})));
    BOOST_TEST(o.common.discovery_interval_ms == 3600000u);
    BOOST_TEST(o.common.queue_limit == 10000000u);
    // Environment.
    o = ok(run(program::broker, tls_args(f),
               {"MQTT_DISCOVERY_INTERVAL=250", "MQTT_QUEUE_LIMIT=5000"}));
    BOOST_TEST(o.common.discovery_interval_ms == 250u);
    BOOST_TEST(o.common.queue_limit == 5000u);
    // Config file, under the command line.
    auto conf = f.write("cluster.conf", lines({"discovery-interval = 1500", "queue-limit = 777"}));
    o = ok(run(program::router, {"-c", conf, "--queue-limit", "778"}));
    BOOST_TEST(o.common.discovery_interval_ms == 1500u);
    BOOST_TEST(o.common.queue_limit == 778u);
}

BOOST_AUTO_TEST_CASE(discovery_interval_and_queue_limit_errors) {
    files f;
    const std::pair<std::vector<std::string>, std::string> rows[] = {
        {{"--discovery-interval", "99"}, "--discovery-interval: 99 is out of range (100..3600000)"},
        {{"--discovery-interval", "3600001"},
         "--discovery-interval: 3600001 is out of range (100..3600000)"},
        {{"--discovery-interval", "5s"}, "--discovery-interval: '5s' is not a number"},
        {{"--queue-limit", "0"}, "--queue-limit: 0 is out of range (100..10000000)"},
        {{"--queue-limit", "99"}, "--queue-limit: 99 is out of range (100..10000000)"},
        {{"--queue-limit", "10000001"}, "--queue-limit: 10000001 is out of range (100..10000000)"},
        {{"--queue-limit", "1", "--queue-limit", "2"}, "--queue-limit: given more than once"},
    };
    for (const auto& [extra, expected] : rows) {
        BOOST_TEST_CONTEXT(expected) {
            fails(run(program::broker, tls_args(f, extra)), expected);
        }
    }
    fails(run(program::router, {}, {"MQTT_QUEUE_LIMIT=lots"}),
          "MQTT_QUEUE_LIMIT: 'lots' is not a number");
    auto conf = f.write("bad.conf", "discovery-interval = 50\n");
    fails(
        run(program::router, {"--config", conf}),
        "config file " + conf + ": line 1: discovery-interval: 50 is out of range (100..3600000)");
}

BOOST_AUTO_TEST_CASE(discovery_interval_and_queue_limit_in_every_help) {
    for (auto which : {program::broker, program::frontend, program::router}) {
        auto help = run(which, {"--help"});
        BOOST_TEST(help.exit_code == 0);
        BOOST_TEST(help.message.find("--discovery-interval") != std::string::npos);
        BOOST_TEST(help.message.find("--queue-limit") != std::string::npos);
    }
}

// ---------------------------------------------------------------- stats

BOOST_AUTO_TEST_CASE(stats_defaults_differ_by_program) {
    files f;
    BOOST_TEST(ok(run(program::router, {})).common.stats == "tcp://0.0.0.0:7100");
    BOOST_TEST(
        ok(run(program::frontend, tls_args(f, {"--routers", "tcp://r:7000"}))).common.stats ==
        "tcp://0.0.0.0:7101");
    BOOST_TEST(ok(run(program::broker, tls_args(f))).common.stats == "tcp://0.0.0.0:7102");
    BOOST_TEST(config::default_stats_endpoint(program::router) == "tcp://0.0.0.0:7100");
}

BOOST_AUTO_TEST_CASE(stats_from_each_source_and_none) {
    files f;
    BOOST_TEST(ok(run(program::router, {"--stats", "tcp://127.0.0.1:9100"})).common.stats ==
               "tcp://127.0.0.1:9100");
    BOOST_TEST(ok(run(program::router, {"--stats=tcp://*:9100"})).common.stats == "tcp://*:9100");
    BOOST_TEST(ok(run(program::router, {"--stats", "ipc:///tmp/r.stats"})).common.stats ==
               "ipc:///tmp/r.stats");
    BOOST_TEST(ok(run(program::router, {"--stats", "none"})).common.stats == "");
    BOOST_TEST(ok(run(program::broker, tls_args(f), {"MQTT_STATS=none"})).common.stats == "");
    auto conf = f.write("stats.conf", lines({"stats = tcp://[::1]:9101"}));
    BOOST_TEST(ok(run(program::router, {"-c", conf})).common.stats == "tcp://[::1]:9101");
    // The command line over the file.
    BOOST_TEST(ok(run(program::router, {"-c", conf, "--stats", "none"})).common.stats == "");
}

BOOST_AUTO_TEST_CASE(stats_errors) {
    fails(run(program::router, {"--stats", "udp://x:1"}),
          "--stats udp://x:1: expected tcp://HOST:PORT or ipc://PATH");
    fails(run(program::router, {"--stats", "tcp://0.0.0.0"}),
          "--stats tcp://0.0.0.0: missing port");
    fails(run(program::router, {"--stats", "none", "--stats", "none"}),
          "--stats: given more than once");
    fails(run(program::router, {}, {"MQTT_STATS=off"}),
          "MQTT_STATS off: expected tcp://HOST:PORT or ipc://PATH");
    for (auto which : {program::broker, program::frontend, program::router})
        BOOST_TEST(run(which, {"--help"}).message.find("--stats ENDPOINT") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(router_thread_auto_means_a_thread_only_for_a_syncing_store) {
    files f;
    auto own = [&](std::vector<std::string> more) {
        return ok(run(program::broker, tls_args(f, std::move(more)))).router.own_router_thread();
    };
    BOOST_TEST(!own({}));                       // no store: the frontend's thread
    BOOST_TEST(own({"--data-dir", "/tmp/x"}));  // --sync batch by default
    BOOST_TEST(own({"--data-dir", "/tmp/x", "--sync", "always"}));
    BOOST_TEST(!own({"--data-dir", "/tmp/x", "--sync", "none"}));
    BOOST_TEST(own({"--router-thread", "yes"}));
    BOOST_TEST(!own({"--router-thread", "no", "--data-dir", "/tmp/x"}));
    BOOST_TEST(own({"--router-thread", "auto", "--data-dir", "/tmp/x"}));
    fails(run(program::broker, tls_args(f, {"--router-thread", "maybe"})),
          "--router-thread: 'maybe' must be auto, yes or no");
    // mqtt-broker only: the other programs have one tier each.
    BOOST_TEST(!run(program::router, {"--router-thread", "yes"}).opts.has_value());
    BOOST_TEST(run(program::broker, {"--help"}).message.find("--router-thread") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
