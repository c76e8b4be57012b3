// The key under which a client's source address is counted by the
// per-address limits (connections, failed logins): an IPv4 address as
// itself ("192.0.2.7"; IPv4-mapped IPv6 counts as IPv4), an IPv6 address by
// its /64 network ("2001:db8:1:2::/64"), as one host or home is usually
// given a whole /64 and could otherwise change address at will.
//
// Pure; safe from any thread.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>

namespace frontend::limits {

std::string address_key(const boost::asio::ip::address& a);

}  // namespace frontend::limits
