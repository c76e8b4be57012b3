#include "frontend/net/console_assets.hpp"

#include <algorithm>
#include <cstdio>

#include "frontend/net/ws_handshake.hpp"

namespace frontend::console {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view text_plain = "text/plain; charset=utf-8";
constexpr std::string_view not_found_body = "not found\n";
constexpr std::string_view not_allowed_body = "method not allowed: GET or HEAD only\n";
constexpr std::string_view not_built_body =
    "the web console was not built into this binary (configured with -DMQTT_CONSOLE=OFF)\n";

boost::beast::string_view sv(std::string_view s) {
    return {s.data(), s.size()};  // Boost 1.74's beast::string_view is boost::string_view
}

response make(http::status status, unsigned version, std::string_view type, std::string_view body,
              bool send_body) {
    response res(status, version);
    res.set(http::field::server, "iot-mqtt-server");
    res.set(http::field::content_type, sv(type));
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy", sv(content_security_policy));
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
    res.set(http::field::connection, "close");
    if (send_body) res.body().assign(body.data(), body.size());
    // HEAD: the length the GET would have, and no body.
    res.content_length(body.size());
    return res;
}

}  // namespace

const asset* find(const asset_table& table, std::string_view path) {
    auto it = std::find_if(table.assets.begin(), table.assets.end(),
                           [path](const asset& a) { return a.path == path; });
    return it == table.assets.end() ? nullptr : &*it;
}

std::string_view content_type(std::string_view path) {
    if (path == "/" || path.ends_with(".html")) return "text/html; charset=utf-8";
    if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
    if (path.ends_with(".css")) return "text/css; charset=utf-8";
    if (path.ends_with(".json")) return "application/json";
    if (path.ends_with(".txt")) return text_plain;
    return "application/octet-stream";
}

std::string config_json(std::string_view mqtt_path) {
    std::string out = R"({"mqttPath":")";
    for (char c : mqtt_path) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"}";
}

std::optional<response> answer(const asset_table& table, http::verb method, std::string_view target,
                               unsigned version, std::string_view mqtt_path) {
    const auto path = ws::target_path(target);
    const asset* a = find(table, path);
    const bool config = table.built && path == config_path;
    if (a || config) {
        const bool head = method == http::verb::head;
        if (method != http::verb::get && !head) {
            auto res =
                make(http::status::method_not_allowed, version, text_plain, not_allowed_body, true);
            res.set(http::field::allow, "GET, HEAD");
            return res;
        }
        if (config)
            return make(http::status::ok, version, content_type(path), config_json(mqtt_path),
                        !head);
        return make(http::status::ok, version, content_type(a->path), a->body, !head);
    }
    if (!path.empty() && path == mqtt_path) return std::nullopt;
    const auto body = !table.built && path == "/" ? not_built_body : not_found_body;
    return make(http::status::not_found, version, text_plain, body, method != http::verb::head);
}

}  // namespace frontend::console
