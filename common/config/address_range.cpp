#include "common/config/address_range.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace config {
namespace {

using boost::asio::ip::address;

// The address as 16 bytes (IPv4 in the first 4) and its width in bits.
struct bits {
    std::array<unsigned char, 16> bytes{};
    unsigned width = 0;
};

bits bits_of(const address& a) {
    bits b;
    if (a.is_v4()) {
        const auto v4 = a.to_v4().to_bytes();
        std::copy(v4.begin(), v4.end(), b.bytes.begin());
        b.width = 32;
    } else {
        b.bytes = a.to_v6().to_bytes();
        b.width = 128;
    }
    return b;
}

// The first `prefix` bits of x and y are equal.
bool same_prefix(const bits& x, const bits& y, unsigned prefix) {
    const unsigned whole = prefix / 8, rest = prefix % 8;
    if (!std::equal(x.bytes.begin(), x.bytes.begin() + whole, y.bytes.begin())) return false;
    if (rest == 0) return true;
    const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (x.bytes[whole] & mask) == (y.bytes[whole] & mask);
}

}  // namespace

address unmapped(const address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
    return a;
}

bool address_range::contains(const address& a) const {
    const auto x = bits_of(unmapped(a));
    const auto n = bits_of(network);
    return x.width == n.width && same_prefix(x, n, prefix);
}

std::optional<address_range> parse_address_range(std::string_view text, std::string& error) {
    const auto slash = text.find('/');
    const auto host = text.substr(0, slash);
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(std::string(host), ec);
    if (ec || host.empty()) {
        error = "not an IPv4 or IPv6 address or CIDR range";
        return std::nullopt;
    }
    // ::ffff:a.b.c.d/N is the IPv4 range a.b.c.d/(N - 96).
    const bool mapped = a.is_v6() && a.to_v6().is_v4_mapped();
    a = unmapped(a);
    const unsigned width = mapped ? 128 : a.is_v4() ? 32 : 128;
    const unsigned low = mapped ? 96 : 0;
    unsigned prefix = width;
    if (slash != std::string_view::npos) {
        const auto digits = text.substr(slash + 1);
        auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || err != std::errc() || end != digits.data() + digits.size() ||
            prefix < low || prefix > width) {
            error = "prefix must be " + std::to_string(low) + ".." + std::to_string(width);
            return std::nullopt;
        }
    }
    prefix -= low;
    const auto b = bits_of(a);
    // Every bit after the prefix must be 0: compare with the address cut to it.
    bits cut = b;
    for (unsigned i = prefix; i < b.width; ++i)
        cut.bytes[i / 8] &= static_cast<unsigned char>(~(0x80u >> (i % 8)));
    if (cut.bytes != b.bytes) {
        error = "host bits set after /" + std::to_string(prefix);
        return std::nullopt;
    }
    address_range r;
    r.network = a;
    r.prefix = prefix;
    r.text = a.to_string() + "/" + std::to_string(prefix);
    return r;
}

}  // namespace config
