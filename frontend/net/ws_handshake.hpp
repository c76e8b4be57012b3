// The checks of a WebSocket upgrade request for MQTT (MQTT 3.1.1 section 6,
// RFC 6455), apart from the I/O in ws_transport.hpp: the subprotocol the
// server answers with, the path the request asks for, and the reasons an
// upgrade is refused (as error codes, for logs and for the session).
//
// Pure functions and a constant error category; safe from any thread.
#pragma once

#include <boost/system/error_code.hpp>
#include <string_view>
#include <type_traits>

namespace frontend::ws {

// Largest upgrade request (request line and headers) read before refusing it.
inline constexpr std::size_t max_upgrade_request = 8 * 1024;

// The subprotocol to answer with, given the values of every
// Sec-WebSocket-Protocol header of the request (one at a time, in order):
// "mqtt" when offered anywhere (MQTT 3.1.1 [MQTT-6.0.0-4]), else "mqttv3.1"
// (the name MQTT 3.1 clients offer), else empty (refuse: a conforming client
// always offers "mqtt", [MQTT-6.0.0-3]). Tokens are comma-separated and
// compared case-sensitively (RFC 6455 section 4.1).
class subprotocol_chooser {
  public:
    void add_header_value(std::string_view value);
    std::string_view chosen() const;

  private:
    bool mqtt_ = false;
    bool mqttv31_ = false;
};

// The path of a request target: "/mqtt?x=1" -> "/mqtt". Empty when the target
// is not in origin form (e.g. "http://host/mqtt" or "*").
std::string_view target_path(std::string_view target);

enum class refusal {
    wrong_path = 1,       // answered 404
    not_upgrade,          // answered 400 (a plain HTTP request, or not GET)
    no_mqtt_subprotocol,  // answered 400
    text_frame,           // a data frame other than binary after the upgrade [MQTT-6.0.0-1]
    http_answered,        // a plain HTTP request answered (web console, console_assets.hpp)
};

const boost::system::error_category& refusal_category();

inline boost::system::error_code make_error_code(refusal r) {
    return {static_cast<int>(r), refusal_category()};
}

}  // namespace frontend::ws

template <>
struct boost::system::is_error_code_enum<frontend::ws::refusal> : std::true_type {};
