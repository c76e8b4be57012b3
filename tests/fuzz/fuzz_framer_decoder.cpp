// libFuzzer target: bytes -> mqtt::framer -> mqtt::decode for every frame,
// as a broker decodes what a client sends (the decoder also takes the
// server->client packets, which the connection refuses later).
//
// Input: byte 0 chooses the framer's size limit (bits 0-2) and the chunk size
// the stream is fed in (bits 3-7: 1..32 bytes); the rest is the stream.
//
// Invariants checked:
//   - the framer never returns a frame above its limit, and feeding the
//     stream in chunks gives the same frames and the same final error as
//     feeding it at once;
//   - every decoded packet re-encodes to exactly the bytes it came from
//     (same header byte, same body: the decoder refuses everything the
//     encoder could not have written), and that encoding decodes to an
//     equal packet;
//   - decoded fields obey the rules the decoder promises (UTF-8, topic
//     names without wildcards, QoS <= 2, non-zero ids, non-empty lists);
//   - a failed decode sets an error code of the codec category;
//   - the remaining-length varint, mqtt::valid_utf8 (against a plain
//     reference decoder) and the topic name/filter rules agree with
//     themselves on the raw stream.
// No exception may escape (libFuzzer reports one as a crash). FUZZ_TRACE=1
// prints each frame and what it decoded to.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/mqtt/decoder.hpp"
#include "common/mqtt/encoder.hpp"
#include "common/mqtt/error.hpp"
#include "common/mqtt/framer.hpp"
#include "common/mqtt/utf8.hpp"
#include "common/mqtt/wire.hpp"
#include "common/topic/topic.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using boost::system::error_code;

constexpr std::size_t size_limits[8] = {2, 16, 64, 256, 1024, 4096, 65536, 1u << 28};

// Straightforward UTF-8 decoding by code point, for comparison with
// mqtt::valid_utf8's table-driven ranges.
bool reference_utf8(std::string_view s) {
    static constexpr std::uint32_t min_of_length[] = {0, 0, 0x80, 0x800, 0x10000};
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<std::uint8_t>(s[i]);
        std::uint32_t cp = 0;
        std::size_t len = 0;
        if (b < 0x80) {
            cp = b, len = 1;
        } else if ((b & 0xe0) == 0xc0) {
            cp = b & 0x1f, len = 2;
        } else if ((b & 0xf0) == 0xe0) {
            cp = b & 0x0f, len = 3;
        } else if ((b & 0xf8) == 0xf0) {
            cp = b & 0x07, len = 4;
        } else {
            return false;
        }
        if (len > s.size() - i) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto c = static_cast<std::uint8_t>(s[i + k]);
            if ((c & 0xc0) != 0x80) return false;
            cp = cp << 6 | (c & 0x3f);
        }
        if (len > 1 && cp < min_of_length[len]) return false;  // overlong
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        if (cp == 0) return false;  // MQTT forbids U+0000
        i += len;
    }
    return true;
}

std::string frame_bytes(const mqtt::raw_packet& raw) {
    std::string out;
    mqtt::wire::writer(out).u8(raw.header).varint(static_cast<std::uint32_t>(raw.body.size()));
    return out + raw.body;
}

// The rules decode() promises for what it accepts.
void check_fields(const mqtt::packet& p) {
    std::visit(
        [](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, mqtt::connect>) {
                FUZZ_CHECK(mqtt::valid_utf8(v.client_id), fuzz::hex(v.client_id));
                FUZZ_CHECK(v.protocol_name == "MQTT" || v.protocol_name == "MQIsdp",
                           v.protocol_name);
                if (v.will) {
                    FUZZ_CHECK(mqtt::valid_utf8(v.will->topic), fuzz::hex(v.will->topic));
                    FUZZ_CHECK(mqtt::topic::valid_name(v.will->topic), v.will->topic);
                    FUZZ_CHECK(v.will->qos <= 2, std::to_string(v.will->qos));
                }
                if (v.username) FUZZ_CHECK(mqtt::valid_utf8(*v.username), *v.username);
                FUZZ_CHECK(!v.password || v.username, "password without username");
            } else if constexpr (std::is_same_v<T, mqtt::publish>) {
                FUZZ_CHECK(mqtt::valid_utf8(v.topic), fuzz::hex(v.topic));
                FUZZ_CHECK(mqtt::topic::valid_name(v.topic), fuzz::hex(v.topic));
                FUZZ_CHECK(v.qos <= 2, std::to_string(v.qos));
                FUZZ_CHECK((v.qos == 0) == (v.packet_id == 0), std::to_string(v.packet_id));
                FUZZ_CHECK(!v.dup || v.qos > 0, "DUP on QoS 0");
            } else if constexpr (std::is_same_v<T, mqtt::subscribe>) {
                FUZZ_CHECK(v.packet_id != 0, "subscribe id 0");
                FUZZ_CHECK(!v.subscriptions.empty(), "empty subscribe");
                for (const auto& s : v.subscriptions) {
                    FUZZ_CHECK(mqtt::valid_utf8(s.filter), fuzz::hex(s.filter));
                    FUZZ_CHECK(s.qos <= 2, std::to_string(s.qos));
                }
            } else if constexpr (std::is_same_v<T, mqtt::unsubscribe>) {
                FUZZ_CHECK(v.packet_id != 0, "unsubscribe id 0");
                FUZZ_CHECK(!v.filters.empty(), "empty unsubscribe");
                for (const auto& f : v.filters) FUZZ_CHECK(mqtt::valid_utf8(f), fuzz::hex(f));
            } else if constexpr (std::is_same_v<T, mqtt::suback>) {
                FUZZ_CHECK(!v.return_codes.empty(), "empty suback");
                for (auto c : v.return_codes)
                    FUZZ_CHECK(c <= 2 || c == mqtt::suback_failure, std::to_string(c));
            } else if constexpr (requires { v.packet_id; }) {
                FUZZ_CHECK(v.packet_id != 0, "packet id 0");
            }
        },
        p);
}

// decode() on one frame, and the round trip through the encoder.
void check_decode(const mqtt::raw_packet& raw) {
    error_code ec;
    const auto p = mqtt::decode(raw, ec);
    static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;
    if (trace) {
        std::fprintf(stderr, "frame %s: %s\n", fuzz::hex(frame_bytes(raw)).c_str(),
                     p ? mqtt::name_of(mqtt::type_of(*p)) : ec.message().c_str());
    }
    if (!p) {
        FUZZ_CHECK(ec.failed() && ec.category() == mqtt::codec_category(),
                   ec.message() + " for " + fuzz::hex(frame_bytes(raw)));
        return;
    }
    FUZZ_CHECK(!ec.failed(), ec.message());
    const auto type = mqtt::type_of(*p);
    FUZZ_CHECK(static_cast<unsigned>(type) == (raw.header >> 4u), fuzz::hex(frame_bytes(raw)));
    FUZZ_CHECK(mqtt::name_of(type) != nullptr, "no name");
    check_fields(*p);

    // Re-encoded: the very same packet, byte for byte (apart from a
    // non-minimal remaining length, which the framer accepts).
    const std::string again = mqtt::encode(*p);
    mqtt::framer f(size_limits[7]);
    f.feed(again);
    const auto reframed = f.next(ec);
    FUZZ_CHECK(reframed && !ec && f.buffered() == 0,
               "re-encoding does not frame: " + fuzz::hex(again));
    FUZZ_CHECK(reframed->header == raw.header && reframed->body == raw.body,
               "decoded " + fuzz::hex(frame_bytes(raw)) + "\nre-encoded " + fuzz::hex(again));
    const auto p2 = mqtt::decode(*reframed, ec);
    FUZZ_CHECK(p2 && !ec && *p2 == *p, "re-encoding decodes differently: " + fuzz::hex(again));
}

struct framing {
    std::vector<mqtt::raw_packet> frames;
    error_code ec;
};

void take_frames(mqtt::framer& f, framing& out) {
    while (!out.ec) {
        auto raw = f.next(out.ec);
        if (!raw) {
            FUZZ_CHECK(!out.ec || out.ec.category() == mqtt::codec_category(), out.ec.message());
            return;
        }
        FUZZ_CHECK(!out.ec, out.ec.message());
        out.frames.push_back(std::move(*raw));
    }
}

void check_framer(std::string_view stream, std::size_t limit, std::size_t chunk) {
    framing whole;
    {
        mqtt::framer f(limit);
        f.feed(stream);
        take_frames(f, whole);
    }
    framing chunked;
    {
        mqtt::framer f(limit);
        for (std::size_t at = 0; at < stream.size() && !chunked.ec; at += chunk) {
            f.feed(stream.substr(at, chunk));
            take_frames(f, chunked);
        }
    }
    FUZZ_CHECK(whole.ec == chunked.ec, whole.ec.message() + " vs " + chunked.ec.message());
    FUZZ_CHECK(
        whole.frames.size() == chunked.frames.size(),
        std::to_string(whole.frames.size()) + " vs " + std::to_string(chunked.frames.size()));

    std::size_t offset = 0;
    for (std::size_t i = 0; i < whole.frames.size(); ++i) {
        const auto& a = whole.frames[i];
        const auto& b = chunked.frames[i];
        FUZZ_CHECK(a.header == b.header && a.body == b.body, "frame " + std::to_string(i));
        const unsigned type = a.header >> 4u;
        FUZZ_CHECK(type != 0 && type != 15, fuzz::hex(frame_bytes(a)));
        // The frame is exactly the next bytes of the stream, within the limit.
        std::uint32_t length = 0;
        error_code ec;
        const std::size_t used =
            mqtt::decode_remaining_length(stream.substr(offset + 1), length, ec);
        FUZZ_CHECK(used > 0 && !ec && length == a.body.size(),
                   "length of frame " + std::to_string(i));
        const std::size_t total = 1 + used + a.body.size();
        FUZZ_CHECK(total <= limit, std::to_string(total) + " > " + std::to_string(limit));
        FUZZ_CHECK(static_cast<std::uint8_t>(stream[offset]) == a.header &&
                       stream.substr(offset + 1 + used, length) == a.body,
                   "frame " + std::to_string(i) + " is not the stream's bytes");
        offset += total;
        check_decode(a);
    }
}

// decode_remaining_length against the writer's minimal encoding.
void check_varint(std::string_view bytes) {
    std::uint32_t value = 0;
    error_code ec;
    const std::size_t used = mqtt::decode_remaining_length(bytes, value, ec);
    if (ec) {
        FUZZ_CHECK(used == 0 && ec == mqtt::errc::malformed_remaining_length, ec.message());
        return;
    }
    if (used == 0) {  // needs more: fewer than 4 bytes, all with the continuation bit
        FUZZ_CHECK(bytes.size() < 4, fuzz::hex(bytes.substr(0, 4)));
        for (unsigned char c : bytes) FUZZ_CHECK(c & 0x80, fuzz::hex(bytes));
        return;
    }
    FUZZ_CHECK(used <= 4 && value <= mqtt::wire::max_remaining_length, std::to_string(value));
    std::string minimal;
    mqtt::wire::writer(minimal).varint(value);
    FUZZ_CHECK(minimal.size() <= used, fuzz::hex(minimal));
    std::uint32_t again = 0;
    FUZZ_CHECK(mqtt::decode_remaining_length(minimal, again, ec) == minimal.size() && !ec &&
                   again == value,
               fuzz::hex(minimal));
}

void check_text(std::string_view s) {
    const bool valid = mqtt::valid_utf8(s);
    FUZZ_CHECK(valid == reference_utf8(s), "valid_utf8 disagrees on " + fuzz::hex(s));
    if (!valid || s.size() > 65535) return;
    // A valid topic name holds no wildcard, so it is a filter matching itself.
    if (mqtt::topic::valid_name(s)) {
        FUZZ_CHECK(mqtt::topic::valid_filter(s), fuzz::hex(s));
        FUZZ_CHECK(mqtt::topic::matches(s, s), fuzz::hex(s));
        if (s.front() != '$') FUZZ_CHECK(mqtt::topic::matches("#", s), fuzz::hex(s));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t limit = size_limits[data[0] & 0x07];
    const std::size_t chunk = (data[0] >> 3) + 1u;
    const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

    check_framer(stream, limit, chunk);
    check_varint(stream);
    check_text(stream);

    // The decoder straight on the input as one frame: header byte, then
    // (after the remaining length, when one can be read) everything else as
    // the body, whatever length was declared or the size limit.
    if (!stream.empty()) {
        mqtt::raw_packet raw;
        raw.header = static_cast<std::uint8_t>(stream[0]);
        std::uint32_t declared = 0;
        error_code ec;
        const std::size_t used = mqtt::decode_remaining_length(stream.substr(1), declared, ec);
        raw.body.assign(stream.substr(1 + used));
        check_decode(raw);
    }
    return 0;
}
