#include "frontend/net/listener.hpp"

#include <spdlog/spdlog.h>

#include "frontend/frontend_server.hpp"
#include "frontend/net/session.hpp"
#include "frontend/net/tls_transport.hpp"
#include "frontend/net/transport.hpp"
#include "frontend/net/ws_transport.hpp"

namespace frontend {

namespace asio = boost::asio;
using asio::ip::tcp;

listener::listener(asio::io_context& io, const config::listener_url& url, frontend_server& server)
    : url_(url), server_(server), acceptor_(io), retry_(io) {
    boost::system::error_code ec;
    tcp::endpoint ep;
    if (auto address = asio::ip::make_address(url.host, ec); !ec) {
        ep = tcp::endpoint(address, url.port);
    } else {
        // A host name (e.g. localhost): bind its first address.
        tcp::resolver resolver(io);
        auto results =
            resolver.resolve(url.host, std::to_string(url.port), tcp::resolver::passive, ec);
        if (ec || results.empty())
            throw std::runtime_error("--listen " + url.text + ": cannot resolve '" + url.host +
                                     "': " + ec.message());
        ep = results.begin()->endpoint();
    }
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("--listen " + url.text + ": " + ec.message());
}

void listener::start() {
    if (url_.scheme == "tls")
        spdlog::info("listening on {} (MQTT over TLS)", url_.text);
    else if (url_.scheme == "wss")
        spdlog::info("listening on {} (MQTT over WebSocket over TLS)", url_.text);
    else
        spdlog::warn(
            "listening on {} WITHOUT ENCRYPTION: plain {}:// is for local development and "
            "benchmarks only; credentials cross the network in clear text",
            url_.text, url_.scheme);
    accept();
}

void listener::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
}

void listener::accept() {
    // --connection-rate: no token, no accept; meanwhile new connections wait
    // in the kernel's listen queue (README "Limits").
    const auto now = std::chrono::steady_clock::now();
    const auto at = server_.limits().next_accept(now);
    if (at <= now) {
        accept_now();
        return;
    }
    server_.limits().count_rate_delay();
    retry_.expires_at(at);
    retry_.async_wait([this](const boost::system::error_code& e) {
        if (!e && acceptor_.is_open()) accept_now();
    });
}

void listener::accept_now() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp_socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!acceptor_.is_open()) return;  // accepted just as stop() ran: drop it
        if (!ec) {
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            auto remote = socket.remote_endpoint(ignored);
            const auto id = server_.allocate_conn_id();
            limits::admission_ticket ticket;
            if (!server_.limits().admit(remote.address(), std::chrono::steady_clock::now(),
                                        ticket)) {
                // Over --max-connections(-per-address): closed before any TLS
                // byte, with a reset (linger 0) that leaves no TIME_WAIT here.
                socket.set_option(asio::socket_base::linger(true, 0), ignored);
                socket.close(ignored);
                accept();
                return;
            }
            using tls_stream = asio::ssl::stream<tcp_socket>;
            session_ptr s;
            if (url_.scheme == "tls") {
                s.reset(new session<tls_transport>(server_, id, std::move(socket),
                                                   server_.tls_context()));
            } else if (url_.scheme == "wss") {
                s.reset(new session<ws_transport<tls_stream>>(server_, id, url_.path, url_.console,
                                                              std::move(socket),
                                                              server_.tls_context()));
            } else if (url_.scheme == "ws") {
                s.reset(new session<ws_transport<tcp_socket>>(server_, id, url_.path, url_.console,
                                                              std::move(socket)));
            } else {
                s.reset(new session<tcp_transport>(server_, id, std::move(socket)));
            }
            server_.register_session(*s, ticket);
            s->start();
        } else if (acceptor_.is_open()) {
            // EMFILE and friends: keep accepting, but do not spin.
            spdlog::warn("accept on {} failed: {}", url_.text, ec.message());
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](const boost::system::error_code& e) {
                if (!e && acceptor_.is_open()) accept();
            });
            return;
        }
        if (acceptor_.is_open()) accept();
    });
}

}  // namespace frontend
