#include "common/mqtt/error.hpp"

#include <string>

namespace mqtt {
namespace {

class codec_category_impl : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "mqtt.codec"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "success";
            case errc::malformed_remaining_length:
                return "malformed remaining length (more than 4 bytes)";
            case errc::packet_too_large:
                return "packet larger than the allowed maximum";
            case errc::invalid_packet_type:
                return "reserved packet type (0 or 15)";
            case errc::invalid_fixed_header_flags:
                return "invalid flag bits in the fixed header";
            case errc::truncated_packet:
                return "packet body shorter than its fields require";
            case errc::trailing_bytes:
                return "unexpected bytes after the last field of the packet";
            case errc::invalid_utf8:
                return "string is not well-formed UTF-8 (or contains U+0000)";
            case errc::invalid_protocol_name:
                return "protocol name is neither \"MQTT\" nor \"MQIsdp\"";
            case errc::unsupported_protocol_level:
                return "unsupported protocol level";
            case errc::invalid_connect_flags:
                return "inconsistent or reserved connect flags";
            case errc::invalid_qos:
                return "invalid QoS value";
            case errc::zero_packet_id:
                return "packet identifier must not be 0";
            case errc::empty_subscribe:
                return "SUBSCRIBE/UNSUBSCRIBE carries no topic filter";
            case errc::invalid_subscribe_options:
                return "reserved bits set in the requested QoS byte";
            case errc::invalid_topic_name:
                return "invalid topic name (empty or containing wildcards)";
            case errc::server_only_packet:
                return "packet type a client must not send";
        }
        return "unknown mqtt codec error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& codec_category() {
    static const codec_category_impl category;
    return category;
}

}  // namespace mqtt
