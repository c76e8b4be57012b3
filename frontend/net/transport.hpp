// Transport adapters for the one client session template (session.hpp): the
// few stream operations a session needs, the same for every transport.
//
//   get_executor()                 the executor of the underlying socket
//   socket()                       the TCP socket (hard close, options)
//   async_handshake(h(ec))         TLS handshake, WebSocket upgrade, or nothing
//   async_read_some(buf, h(ec, n)) the next bytes of the client's MQTT byte stream
//   async_write(buf, h(ec, n))     all of `buf` (one write in flight at a time)
//   async_shutdown(h(ec))          graceful end: TLS close_notify, WebSocket
//                                  close frame, or nothing; the session then
//                                  closes the socket whatever the outcome
//   native_tls()                   the OpenSSL connection of tls and wss (for
//                                  the client certificate), else nullptr
//   name                           "TCP", "TLS", ... for logs
//
// Here: plain TCP. TLS (tls://) is in tls_transport.hpp, WebSocket (ws://,
// wss://) in ws_transport.hpp.
// Each adapter owns its stream and lives inside its session, on the frontend's
// io_context thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <utility>

namespace frontend {

// Plain TCP (tcp://, development only).
class tcp_transport {
  public:
    static constexpr const char* name = "TCP";

    explicit tcp_transport(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

    auto get_executor() { return socket_.get_executor(); }
    boost::asio::ip::tcp::socket& socket() { return socket_; }
    SSL* native_tls() { return nullptr; }

    template <class Handler>
    void async_handshake(Handler&& h) {
        boost::asio::post(socket_.get_executor(), [h = std::forward<Handler>(h)]() mutable {
            h(boost::system::error_code{});
        });
    }

    template <class Buffer, class Handler>
    void async_read_some(const Buffer& b, Handler&& h) {
        socket_.async_read_some(b, std::forward<Handler>(h));
    }

    template <class Buffer, class Handler>
    void async_write(const Buffer& b, Handler&& h) {
        boost::asio::async_write(socket_, b, std::forward<Handler>(h));
    }

    template <class Handler>
    void async_shutdown(Handler&& h) {
        async_handshake(std::forward<Handler>(h));  // nothing to say: complete at once
    }

  private:
    boost::asio::ip::tcp::socket socket_;
};

}  // namespace frontend
