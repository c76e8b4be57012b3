#include "frontend/limits/address_key.hpp"

#include <algorithm>

#include "common/config/address_range.hpp"

namespace frontend::limits {

std::string address_key(const boost::asio::ip::address& peer) {
    const auto a = config::unmapped(peer);
    if (a.is_v4()) return a.to_string();
    auto bytes = a.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);  // the interface identifier
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace frontend::limits
