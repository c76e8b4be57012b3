// Unit tests for frontend/net/console_assets: which path is which file, the
// HTTP answers (status, exact headers, HEAD, 404/405, the listener's MQTT
// path left to the WebSocket upgrade), the per-listener config.json, the
// table compiled into this binary, and the --console option that turns it on.
#include "frontend/net/console_assets.hpp"

#include <unistd.h>

#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/options.hpp"

namespace http = boost::beast::http;
namespace console = frontend::console;

namespace {

// A table of small hand-written files, standing in for the generated one.
const console::asset test_assets[] = {
    {"/", "<!doctype html><title>t</title>"},
    {"/console/app.js", "'use strict';\n"},
    {"/console/style.css", "body{}"},
};
const console::asset_table built{test_assets, true};
const console::asset_table not_built{{}, false};

std::string header(const console::response& res, std::string_view name) {
    auto it = res.find(boost::beast::string_view(name.data(), name.size()));
    return it == res.end() ? std::string("(absent)")
                           : std::string(it->value().data(), it->value().size());
}

std::string wire(console::response res) {
    std::ostringstream out;
    out << res;
    return out.str();
}

console::response get(std::string_view target, const console::asset_table& table = built,
                      http::verb method = http::verb::get) {
    auto res = console::answer(table, method, target, 11, "/mqtt");
    BOOST_TEST_REQUIRE(res.has_value(), "no answer for " << target);
    return std::move(*res);
}

void check_common_headers(const console::response& res) {
    BOOST_TEST(header(res, "Cache-Control") == "no-cache");
    BOOST_TEST(header(res, "Content-Security-Policy") ==
               "default-src 'self'; connect-src 'self' wss: ws:; img-src 'self' data:; "
               "style-src 'self'; script-src 'self'");
    BOOST_TEST(header(res, "X-Content-Type-Options") == "nosniff");
    BOOST_TEST(header(res, "X-Frame-Options") == "DENY");
    BOOST_TEST(header(res, "Connection") == "close");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(console_assets)

// ---------------------------------------------------------------- lookup

BOOST_AUTO_TEST_CASE(find_matches_whole_paths_only) {
    BOOST_TEST(console::find(built, "/") == &test_assets[0]);
    BOOST_TEST(console::find(built, "/console/app.js") == &test_assets[1]);
    BOOST_TEST(console::find(built, "/console/app.js/") == nullptr);
    BOOST_TEST(console::find(built, "/Console/app.js") == nullptr);
    BOOST_TEST(console::find(built, "/console/") == nullptr);
    BOOST_TEST(console::find(built, "") == nullptr);
    BOOST_TEST(console::find(not_built, "/") == nullptr);
}

BOOST_AUTO_TEST_CASE(content_type_by_extension) {
    BOOST_TEST(console::content_type("/") == "text/html; charset=utf-8");
    BOOST_TEST(console::content_type("/x/index.html") == "text/html; charset=utf-8");
    BOOST_TEST(console::content_type("/console/mqtt.min.js") == "text/javascript; charset=utf-8");
    BOOST_TEST(console::content_type("/console/style.css") == "text/css; charset=utf-8");
    BOOST_TEST(console::content_type("/console/config.json") == "application/json");
    BOOST_TEST(console::content_type("/console/mqtt-license.txt") == "text/plain; charset=utf-8");
    BOOST_TEST(console::content_type("/console/blob") == "application/octet-stream");
}

// ---------------------------------------------------------------- answers

BOOST_AUTO_TEST_CASE(get_index_exact_response) {
    auto res = get("/");
    BOOST_TEST(res.result_int() == 200);
    check_common_headers(res);
    BOOST_TEST(wire(std::move(res)) ==
               "HTTP/1.1 200 OK\r\n"
               "Server: iot-mqtt-server\r\n"
               "Content-Type: text/html; charset=utf-8\r\n"
               "Cache-Control: no-cache\r\n"
               "Content-Security-Policy: default-src 'self'; connect-src 'self' wss: ws:; "
               "img-src 'self' data:; style-src 'self'; script-src 'self'\r\n"
               "X-Content-Type-Options: nosniff\r\n"
               "X-Frame-Options: DENY\r\n"
               "Referrer-Policy: no-referrer\r\n"
               "Connection: close\r\n"
               "Content-Length: 31\r\n"  // "<!doctype html><title>t</title>"
               "\r\n"
               "<!doctype html><title>t</title>");
}

BOOST_AUTO_TEST_CASE(assets_with_their_types_and_query_strings_ignored) {
    auto js = get("/console/app.js?v=2");
    BOOST_TEST(js.result_int() == 200);
    BOOST_TEST(header(js, "Content-Type") == "text/javascript; charset=utf-8");
    BOOST_TEST(header(js, "Content-Length") == "14");
    BOOST_TEST(js.body() == "'use strict';\n");
    check_common_headers(js);
    auto css = get("/console/style.css#top");
    BOOST_TEST(header(css, "Content-Type") == "text/css; charset=utf-8");
    BOOST_TEST(css.body() == "body{}");
}

BOOST_AUTO_TEST_CASE(head_has_the_get_length_and_no_body) {
    auto res = get("/console/app.js", built, http::verb::head);
    BOOST_TEST(res.result_int() == 200);
    BOOST_TEST(header(res, "Content-Length") == "14");
    BOOST_TEST(res.body().empty());
    check_common_headers(res);
    const auto text = wire(std::move(res));
    BOOST_TEST(text.ends_with("Content-Length: 14\r\n\r\n"), text);
}

BOOST_AUTO_TEST_CASE(unknown_paths_are_404_with_the_same_headers) {
    for (auto target : {"/nope", "/console/", "/console/app.jsx", "/index.html", "*",
                        "http://127.0.0.1/", "/mqtt/"}) {
        auto res = get(target);
        BOOST_TEST(res.result_int() == 404, target);
        BOOST_TEST(res.body() == "not found\n");
        BOOST_TEST(header(res, "Content-Type") == "text/plain; charset=utf-8");
        check_common_headers(res);
    }
    auto head = get("/nope", built, http::verb::head);
    BOOST_TEST(head.result_int() == 404);
    BOOST_TEST(head.body().empty());
    BOOST_TEST(header(head, "Content-Length") == "10");
}

BOOST_AUTO_TEST_CASE(other_methods_on_assets_are_405) {
    for (auto method : {http::verb::post, http::verb::put, http::verb::delete_}) {
        auto res = get("/", built, method);
        BOOST_TEST(res.result_int() == 405);
        BOOST_TEST(header(res, "Allow") == "GET, HEAD");
        check_common_headers(res);
    }
    BOOST_TEST(get("/nope", built, http::verb::post).result_int() == 404);
}

BOOST_AUTO_TEST_CASE(the_mqtt_path_is_left_to_the_upgrade_checks) {
    BOOST_TEST(!console::answer(built, http::verb::get, "/mqtt", 11, "/mqtt"));
    BOOST_TEST(!console::answer(built, http::verb::get, "/mqtt?x=1", 11, "/mqtt"));
    BOOST_TEST(!console::answer(built, http::verb::post, "/ws", 11, "/ws"));
    BOOST_TEST(!console::answer(not_built, http::verb::get, "/mqtt", 11, "/mqtt"));
    // A listener upgrading on "/": a plain GET of "/" is the page.
    auto res = console::answer(built, http::verb::get, "/", 11, "/");
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->result_int() == 200);
}

BOOST_AUTO_TEST_CASE(http_version_is_echoed) {
    auto res = console::answer(built, http::verb::get, "/", 10, "/mqtt");
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->version() == 10u);
}

// ---------------------------------------------------------------- config.json

BOOST_AUTO_TEST_CASE(config_json_names_the_listener_path) {
    auto res = console::answer(built, http::verb::get, "/console/config.json", 11, "/ws/mqtt");
    BOOST_TEST_REQUIRE(res.has_value());
    BOOST_TEST(res->result_int() == 200);
    BOOST_TEST(header(*res, "Content-Type") == "application/json");
    BOOST_TEST(res->body() == R"({"mqttPath":"/ws/mqtt"})");
    check_common_headers(*res);
    BOOST_TEST(console::config_json("/a\"b\\c\x01") == R"({"mqttPath":"/a\"b\\c\u0001"})");
    BOOST_TEST(console::config_json("/é") == "{\"mqttPath\":\"/\xc3\xa9\"}");
}

// ---------------------------------------------------------------- not built

BOOST_AUTO_TEST_CASE(not_built_says_so_on_the_index) {
    auto res = get("/", not_built);
    BOOST_TEST(res.result_int() == 404);
    BOOST_TEST(res.body() ==
               "the web console was not built into this binary (configured with "
               "-DMQTT_CONSOLE=OFF)\n");
    check_common_headers(res);
    BOOST_TEST(get("/console/config.json", not_built).result_int() == 404);
    BOOST_TEST(get("/console/app.js", not_built).body() == "not found\n");
}

// ---------------------------------------------------------------- the compiled-in table

BOOST_AUTO_TEST_CASE(embedded_table_matches_the_build) {
    const auto& table = console::embedded();
    if (!table.built) {
        BOOST_TEST(table.assets.empty());
        BOOST_TEST(get("/", table).result_int() == 404);
        return;
    }
    for (auto path : {"/", "/console/app.js", "/console/style.css", "/console/mqtt.min.js",
                      "/console/mqtt-license.txt"}) {
        const auto* a = console::find(table, path);
        BOOST_TEST_REQUIRE(a != nullptr, path);
        BOOST_TEST(!a->body.empty(), path);
    }
    const auto index = console::find(table, "/")->body;
    BOOST_TEST(index.starts_with("<!doctype html>"));
    BOOST_TEST(index.find("id=\"login-form\"") != std::string_view::npos);
    BOOST_TEST(index.find("src=\"/console/mqtt.min.js\"") != std::string_view::npos);
    BOOST_TEST(index.find("src=\"/console/app.js\"") != std::string_view::npos);
    // MQTT.js's browser build defines the global `mqtt`.
    BOOST_TEST(console::find(table, "/console/mqtt.min.js")->body.find("var mqtt=") !=
               std::string_view::npos);
    auto res = get("/console/mqtt.min.js", table);
    BOOST_TEST(res.body().size() == console::find(table, "/console/mqtt.min.js")->body.size());
}

// ---------------------------------------------------------------- --console

namespace {

struct password_file {
    std::string path;
    password_file() {
        char name[] = "/tmp/console_assets.XXXXXX";
        int fd = ::mkstemp(name);
        BOOST_TEST_REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
    }
    ~password_file() { std::remove(path.c_str()); }
};

config::parse_result parse(const std::string& passwd, std::vector<std::string> extra) {
    std::vector<std::string> args = {"mqtt-frontend",
                                     "--password-file",
                                     passwd,
                                     "--routers",
                                     "tcp://127.0.0.1:7000",
                                     "--listen",
                                     "ws://127.0.0.1:9080/mqtt",
                                     "--listen",
                                     "tcp://127.0.0.1:1883"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    const char* const envp[] = {nullptr};
    return config::parse(config::program::frontend, static_cast<int>(argv.size()), argv.data(),
                         envp);
}

}  // namespace

BOOST_AUTO_TEST_CASE(console_option_sets_websocket_listeners) {
    password_file passwd;
    auto on = parse(passwd.path, {});
    BOOST_TEST_REQUIRE(on.opts.has_value(), on.message);
    BOOST_TEST(on.opts->frontend.console);
    BOOST_TEST(on.opts->frontend.listeners.at(0).console);   // ws://
    BOOST_TEST(!on.opts->frontend.listeners.at(1).console);  // tcp://: never
    auto off = parse(passwd.path, {"--console", "off"});
    BOOST_TEST_REQUIRE(off.opts.has_value(), off.message);
    BOOST_TEST(!off.opts->frontend.console);
    BOOST_TEST(!off.opts->frontend.listeners.at(0).console);
    auto bad = parse(passwd.path, {"--console", "yes"});
    BOOST_TEST(!bad.opts.has_value());
    BOOST_TEST(bad.exit_code == 2);
    BOOST_TEST(bad.message == "--console: 'yes' must be on or off");
}

BOOST_AUTO_TEST_SUITE_END()
