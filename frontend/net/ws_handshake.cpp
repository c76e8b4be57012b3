#include "frontend/net/ws_handshake.hpp"

#include <string>

namespace frontend::ws {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

class refusal_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "websocket upgrade"; }
    std::string message(int value) const override {
        switch (static_cast<refusal>(value)) {
            case refusal::wrong_path:
                return "path not served (404)";
            case refusal::not_upgrade:
                return "not a WebSocket upgrade request (400)";
            case refusal::no_mqtt_subprotocol:
                return "no mqtt or mqttv3.1 in Sec-WebSocket-Protocol (400)";
            case refusal::text_frame:
                return "data frame that is not binary";
            case refusal::http_answered:
                return "plain HTTP request answered (web console), closing";
        }
        return "unknown refusal";
    }
};

}  // namespace

void subprotocol_chooser::add_header_value(std::string_view value) {
    while (!value.empty()) {
        auto comma = value.find(',');
        auto token = trim(value.substr(0, comma));
        if (token == "mqtt") mqtt_ = true;
        if (token == "mqttv3.1") mqttv31_ = true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
}

std::string_view subprotocol_chooser::chosen() const {
    return mqtt_ ? "mqtt" : mqttv31_ ? "mqttv3.1" : "";
}

std::string_view target_path(std::string_view target) {
    if (!target.starts_with('/')) return {};
    return target.substr(0, target.find_first_of("?#"));
}

const boost::system::error_category& refusal_category() {
    static const refusal_category_impl category;
    return category;
}

}  // namespace frontend::ws
