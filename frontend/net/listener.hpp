// Accepts client connections on one listener URL (tls://, wss://, or the
// unencrypted tcp:// and ws://) and starts a session for each, with the
// transport adapter of its scheme. The frontend's limits decide at accept
// (before any TLS byte): the rate paces the accept loop, a connection over
// the connection counts is closed at once.
//
// Owned by frontend_server; runs on its io_context thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/config/options.hpp"
#include "frontend/net/tcp_socket.hpp"

namespace frontend {

class frontend_server;

class listener {
  public:
    // Binds; throws std::runtime_error naming the URL when that fails.
    listener(boost::asio::io_context& io, const config::listener_url& url, frontend_server& server);

    void start();
    void stop();
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  private:
    void accept();      // when --connection-rate allows: accept_now()
    void accept_now();  // takes the next connection off the kernel's queue

    config::listener_url url_;
    frontend_server& server_;
    tcp_acceptor acceptor_;
    boost::asio::steady_timer retry_;
};

}  // namespace frontend
