// Transport adapters for the one client session template (session.hpp): the
// few stream operations a session needs, the same for every transport.
//
//   get_executor()                 the executor of the underlying socket
//   socket()                       the TCP socket (hard close, options)
//   async_handshake(h(ec))         TLS handshake, WebSocket upgrade, or nothing
//   async_read_view(h(ec, bytes)) the next bytes of the client's MQTT byte
//                                  stream, as a view valid only while h runs
//                                  (read_buffer.hpp: TCP and TLS read into the
//                                  thread's shared buffer once the socket is
//                                  readable); h runs from a handler, never
//                                  inside the call
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
#include <string_view>
#include <utility>

#include "frontend/net/handler_memory.hpp"
#include "frontend/net/read_buffer.hpp"
#include "frontend/net/tcp_socket.hpp"

namespace frontend {

// Plain TCP (tcp://, development only).
class tcp_transport {
  public:
    static constexpr const char* name = "TCP";

    explicit tcp_transport(tcp_socket socket) : socket_(std::move(socket)) {}

    auto get_executor() { return socket_.get_executor(); }
    tcp_socket& socket() { return socket_; }
    SSL* native_tls() { return nullptr; }

    template <class Handler>
    void async_handshake(Handler&& h) {
        boost::asio::post(socket_.get_executor(), [h = std::forward<Handler>(h)]() mutable {
            h(boost::system::error_code{});
        });
    }

    // Reads at once (posted), and waits for the socket only after a read
    // found it empty (Asio's readiness is edge-triggered): one that returned
    // less than the buffer held, or EAGAIN. The wait re-arms the socket in
    // epoll (a system call), and that is what reports a FIN or a reset that
    // came with the bytes of that short read: no new edge follows them
    // (docs/benchmarks.md, "tried, not kept"; test_07_will pins it).
    template <class Handler>
    void async_read_view(Handler&& h) {
        boost::asio::post(socket_.get_executor(),
                          with_handler_memory([this, h = std::forward<Handler>(h)]() mutable {
                              read_view_now(std::move(h));
                          }));
    }

    template <class Buffer, class Handler>
    void async_write(const Buffer& b, Handler&& h) {
        boost::asio::async_write(socket_, b, with_handler_memory(std::forward<Handler>(h)));
    }

    template <class Handler>
    void async_shutdown(Handler&& h) {
        async_handshake(std::forward<Handler>(h));  // nothing to say: complete at once
    }

  private:
    template <class Handler>
    void read_view_now(Handler&& h) {
        const auto buffer = shared_read_buffer();
        boost::system::error_code ec;
        std::size_t n = 0;
        if (!drained_) {
            if (!socket_.non_blocking()) socket_.non_blocking(true, ec);  // (an ioctl)
            if (!ec) n = socket_.read_some(boost::asio::buffer(buffer.data(), buffer.size()), ec);
        }
        if (drained_ || ec == boost::asio::error::would_block ||
            ec == boost::asio::error::try_again) {
            drained_ = false;
            socket_.async_wait(
                boost::asio::socket_base::wait_read,
                with_handler_memory([this, h = std::forward<Handler>(h)](
                                        const boost::system::error_code& wait_ec) mutable {
                    if (wait_ec)
                        h(wait_ec, std::string_view());
                    else
                        read_view_now(std::move(h));
                }));
            return;
        }
        // A short read emptied the socket: the next one waits for it first.
        drained_ = !ec && n < buffer.size();
        h(ec, std::string_view(buffer.data(), n));
    }

    tcp_socket socket_;
    bool drained_ = false;
};

}  // namespace frontend
