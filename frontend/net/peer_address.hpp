// A client's address in a log line ("192.0.2.7:50312"), read from its socket
// (getpeername) only when a line is written: a session keeps no copy of it,
// which every idle connection paid for (32 bytes). A socket already closed
// prints "closed".
//
// Used on the session's io_context thread, as the socket it reads.
#pragma once

#include <fmt/format.h>

#include <boost/system/error_code.hpp>
#include <string>
#include <string_view>

#include "frontend/net/tcp_socket.hpp"

namespace frontend {

struct peer_address {
    const tcp_socket* socket;
};

inline std::string to_string(const peer_address& p) {
    boost::system::error_code ec;
    const auto remote = p.socket->remote_endpoint(ec);
    if (ec) return "closed";
    return remote.address().to_string() + ":" + std::to_string(remote.port());
}

}  // namespace frontend

template <>
struct fmt::formatter<frontend::peer_address> : fmt::formatter<std::string_view> {
    template <typename FormatContext>
    auto format(const frontend::peer_address& p, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(frontend::to_string(p), ctx);
    }
};
