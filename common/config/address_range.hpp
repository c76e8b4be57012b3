// Address ranges given in options (--exempt-addresses): "127.0.0.0/8",
// "2001:db8::/32", or a single address ("::1", "10.1.2.3": /32 or /128).
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack listener
// reports for an IPv4 client) is matched as the IPv4 address it stands for.
//
// Pure functions and values; safe from any thread.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace config {

struct address_range {
    boost::asio::ip::address network;  // with its host bits clear
    unsigned prefix = 0;               // 0..32 (IPv4) or 0..128 (IPv6)
    std::string text;                  // canonical: "127.0.0.0/8", "::1/128"

    bool contains(const boost::asio::ip::address& a) const;
};

// The range, or nothing with `error` set to the reason only (e.g. "prefix
// must be 0..32"); the caller prefixes the option and value. Host bits set
// ("10.0.0.1/8") are refused: a typo should not widen or move a range.
std::optional<address_range> parse_address_range(std::string_view text, std::string& error);

// ::ffff:a.b.c.d -> a.b.c.d; every other address unchanged.
boost::asio::ip::address unmapped(const boost::asio::ip::address& a);

}  // namespace config
