// The client side of the four transports behind one small interface, so an
// MQTT client (client.hpp) is written once: plain TCP (mqtt://), TLS
// (mqtts://), WebSocket (ws://) and WebSocket over TLS (wss://), the last two
// with Boost.Beast, binary messages and the "mqtt" subprotocol (a server
// that answers with another one is refused).
//
// async_connect runs TCP connect, then the TLS handshake (SNI and host name
// check unless insecure), then the WebSocket upgrade; its handler learns the
// error and the stage it failed in. Reads return the MQTT byte stream (for
// WebSocket, message payloads whatever the framing); each write is one TCP
// write or one WebSocket message. close() closes the socket: pending handlers
// complete with operation_aborted.
//
// Each stream belongs to one client on one worker's io_context thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config/listener_url.hpp"

namespace bench {

enum class connect_stage { tcp, tls, websocket };
const char* name_of(connect_stage s);

class stream {
  public:
    using connect_handler = std::function<void(boost::system::error_code, connect_stage)>;
    using io_handler = std::function<void(boost::system::error_code, std::size_t)>;

    virtual ~stream() = default;
    virtual void async_connect(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                               connect_handler h) = 0;
    virtual void async_read_some(boost::asio::mutable_buffer b, io_handler h) = 0;
    virtual void async_write(boost::asio::const_buffer b, io_handler h) = 0;
    virtual void close() = 0;
};

// `tls` must be set for tls and wss URLs and outlive the stream.
std::unique_ptr<stream> make_stream(boost::asio::io_context& ioc, const config::listener_url& url,
                                    boost::asio::ssl::context* tls, bool verify_host);

// The client TLS context: verify against `cafile` (or the system store), or
// nothing when insecure. Throws on an unreadable CA file (startup only).
boost::asio::ssl::context make_tls_context(const std::string& cafile, bool insecure);

}  // namespace bench
