// The web console's static files and the HTTP answers that serve them on a
// ws:// or wss:// listener, for plain GET/HEAD requests that are not
// WebSocket upgrades (ws_transport.hpp does the I/O and closes after one
// answer).
//
// The files are compiled in: frontend/CMakeLists.txt generates the table
// behind embedded() from frontend/console/ (index.html, app.js, style.css)
// and the browser build of MQTT.js (npm "mqtt", dist/mqtt.min.js, fetched
// with `npm ci` at build time), so nothing is read from disk at run time.
// Built with -DMQTT_CONSOLE=OFF the table is empty and says so (`built`).
//
// Served paths: "/" (index.html), "/console/<file>", and
// "/console/config.json", made per listener: {"mqttPath":"/mqtt"} (the path
// the page's MQTT.js upgrades on). Every answer carries the security headers
// (Content-Security-Policy, nosniff, frame DENY), `Cache-Control: no-cache`
// and `Connection: close`.
//
// Pure functions over static data; safe from any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace frontend::console {

struct asset {
    std::string_view path;  // "/" or "/console/app.js"
    std::string_view body;  // the file's bytes, static storage
};

struct asset_table {
    std::span<const asset> assets;
    bool built = false;  // false: configured with -DMQTT_CONSOLE=OFF
};

// The table compiled into this binary (generated at build time).
const asset_table& embedded();

// The asset served at `path` (no query string), or null.
const asset* find(const asset_table& table, std::string_view path);

// "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... by the
// path's extension ("/" is the HTML page); "application/octet-stream" else.
std::string_view content_type(std::string_view path);

inline constexpr std::string_view content_security_policy =
    "default-src 'self'; connect-src 'self' wss: ws:; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'";

// The path of the listener's settings for the page.
inline constexpr std::string_view config_path = "/console/config.json";

// {"mqttPath":"..."} with `mqtt_path` as a JSON string.
std::string config_json(std::string_view mqtt_path);

using response = boost::beast::http::response<boost::beast::http::string_body>;

// The answer to a request that is not a WebSocket upgrade, given its method,
// target ("/console/app.js?v=1") and HTTP version (11 for 1.1):
//   an asset or config_path, GET -> 200 with the file; HEAD -> 200, same
//     headers, no body; another method -> 405 (Allow: GET, HEAD);
//   "/" when the console was not built -> 404 saying so;
//   `mqtt_path` (the listener's WebSocket path) -> nothing: not the
//     console's; the caller refuses it as a plain request on the MQTT path;
//   anything else -> 404.
std::optional<response> answer(const asset_table& table, boost::beast::http::verb method,
                               std::string_view target, unsigned version,
                               std::string_view mqtt_path);

}  // namespace frontend::console
