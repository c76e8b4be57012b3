#include "tools/mqtt-bench/payload.hpp"

namespace bench {
namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view in, std::size_t at, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<std::uint8_t>(in[at + i]);
    return v;
}

}  // namespace

void encode_payload(const payload_header& h, std::size_t size, std::string& out) {
    out.clear();
    out.reserve(size > payload_header_size ? size : payload_header_size);
    out.push_back(static_cast<char>(payload_version));
    put_be(out, h.run_tag, 4);
    put_be(out, h.publisher, 4);
    put_be(out, h.sequence, 8);
    put_be(out, h.send_ns, 8);
    if (size > out.size()) out.append(size - out.size(), 'x');
}

bool decode_payload(std::string_view bytes, payload_header& h) {
    if (bytes.size() < payload_header_size) return false;
    if (static_cast<std::uint8_t>(bytes[0]) != payload_version) return false;
    h.run_tag = static_cast<std::uint32_t>(get_be(bytes, 1, 4));
    h.publisher = static_cast<std::uint32_t>(get_be(bytes, 5, 4));
    h.sequence = get_be(bytes, 9, 8);
    h.send_ns = get_be(bytes, 17, 8);
    return true;
}

}  // namespace bench
