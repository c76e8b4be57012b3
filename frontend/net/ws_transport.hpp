// MQTT over WebSocket (ws://, wss://; MQTT 3.1.1 section 6): the transport
// adapter of the session template (see transport.hpp for the interface) over
// boost::beast::websocket::stream<NextLayer>, NextLayer a TCP socket (ws) or
// an ssl::stream over one (wss).
//
// Handshake: TLS (wss), then the HTTP upgrade request, read with beast::http
// within ws::max_upgrade_request bytes. With the web console on (--console),
// a request that is no upgrade and not for the listener's path is answered
// by console_assets.hpp (the page and its files, or 404) and the connection
// closed (the handshake fails with refusal::http_answered). Otherwise a
// target whose path is not the listener's is answered 404, a request that is
// no upgrade or offers neither "mqtt" nor "mqttv3.1" in
// Sec-WebSocket-Protocol 400, and closed; else beast accepts it, answering
// with the chosen subprotocol. The whole handshake, a console answer
// included, is bounded by the session's connect deadline (its timer runs
// from the start).
//
// After it the session sees a byte stream: reads return the payload bytes of
// binary messages, whatever the framing (an MQTT packet may span frames, a
// frame may carry several packets: the session's framer reassembles); each
// write goes out as one binary message. A text frame fails the read
// ([MQTT-6.0.0-1]); beast itself fails unmasked client frames (close 1002).
// Graceful shutdown sends a close frame (1000).
//
// Owned by its session; used on the frontend's io_context thread only.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "frontend/net/console_assets.hpp"
#include "frontend/net/tcp_socket.hpp"
#include "frontend/net/ws_handshake.hpp"

namespace frontend {

template <class NextLayer>
class ws_transport {
    static constexpr bool is_tls = std::is_same_v<NextLayer, boost::asio::ssl::stream<tcp_socket>>;

    using request = boost::beast::http::request<boost::beast::http::empty_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;

  public:
    static constexpr const char* name = is_tls ? "WSS" : "WS";

    // `path`: the MQTT upgrade path; `console`: serve the web console on
    // plain GETs. `args` construct NextLayer (a socket; or a socket and an
    // ssl::context).
    template <class... Args>
    ws_transport(std::string path, bool console, Args&&... args)
        : ws_(std::forward<Args>(args)...), path_(std::move(path)), console_(console) {}

    auto get_executor() { return ws_.get_executor(); }
    tcp_socket& socket() { return boost::beast::get_lowest_layer(ws_); }
    SSL* native_tls() {
        if constexpr (is_tls)
            return ws_.next_layer().native_handle();
        else
            return nullptr;
    }

    template <class Handler>
    void async_handshake(Handler&& h) {
        if constexpr (is_tls) {
            ws_.next_layer().async_handshake(
                boost::asio::ssl::stream_base::server,
                [this, h = std::forward<Handler>(h)](const boost::system::error_code& ec) mutable {
                    if (ec)
                        h(ec);
                    else
                        read_request(std::move(h));
                });
        } else {
            read_request(std::forward<Handler>(h));
        }
    }

    template <class Buffer, class Handler>
    void async_read_some(const Buffer& b, Handler&& h) {
        ws_.async_read_some(b, [this, h = std::forward<Handler>(h)](
                                   const boost::system::error_code& ec, std::size_t n) mutable {
            if (!ec && ws_.got_text())
                h(make_error_code(ws::refusal::text_frame), std::size_t{0});
            else
                h(ec, n);
        });
    }

    // Through a buffer of this session's (Beast reads frames into it).
    template <class Handler>
    void async_read_view(Handler&& h) {
        async_read_some(boost::asio::buffer(read_buf_),
                        [this, h = std::forward<Handler>(h)](const boost::system::error_code& ec,
                                                             std::size_t n) mutable {
                            h(ec, std::string_view(read_buf_.data(), n));
                        });
    }

    template <class Buffer, class Handler>
    void async_write(const Buffer& b, Handler&& h) {
        ws_.async_write(b, std::forward<Handler>(h));
    }

    template <class Handler>
    void async_shutdown(Handler&& h) {
        if (accepted_ && ws_.is_open()) {
            ws_.async_close(boost::beast::websocket::close_code::normal, std::forward<Handler>(h));
        } else {
            // Still in the handshake (or already closed): nothing to say.
            boost::asio::post(ws_.get_executor(), [h = std::forward<Handler>(h)]() mutable {
                h(boost::system::error_code{});
            });
        }
    }

  private:
    template <class Handler>
    void read_request(Handler&& h) {
        parser_.emplace();
        parser_->header_limit(ws::max_upgrade_request);
        boost::beast::http::async_read(
            ws_.next_layer(), buffer_, *parser_,
            [this, h = std::forward<Handler>(h)](const boost::system::error_code& ec,
                                                 std::size_t) mutable {
                if (ec)
                    h(ec);
                else
                    on_request(std::move(h));
            });
    }

    // Bytes after the request are dropped with buffer_: a client sends nothing
    // before it has the server's answer (RFC 6455 section 4.1).
    template <class Handler>
    void on_request(Handler&& h) {
        namespace http = boost::beast::http;
        namespace websocket = boost::beast::websocket;
        const request& req = parser_->get();
        if (console_ && !websocket::is_upgrade(req)) {
            auto page = console::answer(console::embedded(), req.method(),
                                        std::string_view(req.target().data(), req.target().size()),
                                        req.version(), path_);
            if (page) {
                answer(std::move(*page), std::forward<Handler>(h));
                return;
            }
        }
        if (ws::target_path(std::string_view(req.target().data(), req.target().size())) != path_) {
            refuse(http::status::not_found, ws::refusal::wrong_path, std::forward<Handler>(h));
            return;
        }
        if (!websocket::is_upgrade(req)) {
            refuse(http::status::bad_request, ws::refusal::not_upgrade, std::forward<Handler>(h));
            return;
        }
        ws::subprotocol_chooser chooser;
        for (auto [it, end] = req.equal_range(http::field::sec_websocket_protocol); it != end; ++it)
            chooser.add_header_value(std::string_view(it->value().data(), it->value().size()));
        std::string chosen(chooser.chosen());
        if (chosen.empty()) {
            refuse(http::status::bad_request, ws::refusal::no_mqtt_subprotocol,
                   std::forward<Handler>(h));
            return;
        }
        ws_.set_option(websocket::stream_base::decorator([chosen](websocket::response_type& res) {
            res.set(http::field::server, "iot-mqtt-server");
            res.set(http::field::sec_websocket_protocol, chosen);
        }));
        // Bounds the closing handshake; the session's own deadlines cover
        // the opening one, and MQTT keep-alive covers idleness.
        websocket::stream_base::timeout limits{};
        limits.handshake_timeout = std::chrono::seconds(5);
        limits.idle_timeout = websocket::stream_base::none();
        limits.keep_alive_pings = false;
        ws_.set_option(limits);
        ws_.binary(true);
        ws_.auto_fragment(false);
        // No limit per message: a client may stream many packets in one; the
        // framer enforces the MQTT packet size limits on the bytes.
        ws_.read_message_max(0);
        ws_.async_accept(
            req, [this, h = std::forward<Handler>(h)](const boost::system::error_code& ec) mutable {
                parser_.reset();
                buffer_ = {};
                if (!ec) accepted_ = true;
                h(ec);
            });
    }

    template <class Handler>
    void refuse(boost::beast::http::status status, ws::refusal why, Handler&& h) {
        namespace http = boost::beast::http;
        response_ = std::make_unique<response>(status, parser_->get().version());
        response_->set(http::field::server, "iot-mqtt-server");
        response_->set(http::field::content_type, "text/plain");
        response_->set(http::field::connection, "close");
        response_->body() = make_error_code(why).message() + "\n";
        response_->prepare_payload();
        http::async_write(ws_.next_layer(), *response_,
                          [h = std::forward<Handler>(h), why](const boost::system::error_code&,
                                                              std::size_t) mutable {
                              h(make_error_code(why));  // the session closes the socket
                          });
    }

    // A web console answer, then close (Connection: close).
    template <class Handler>
    void answer(console::response page, Handler&& h) {
        page_ = std::make_unique<console::response>(std::move(page));
        boost::beast::http::async_write(
            ws_.next_layer(), *page_,
            [h = std::forward<Handler>(h)](const boost::system::error_code&, std::size_t) mutable {
                h(make_error_code(ws::refusal::http_answered));  // the session closes the socket
            });
    }

    boost::beast::websocket::stream<NextLayer> ws_;
    std::string path_;
    bool console_ = false;
    std::unique_ptr<console::response> page_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
    std::unique_ptr<response> response_;
    std::array<char, 4 * 1024> read_buf_;  // async_read_view's
    bool accepted_ = false;
};

}  // namespace frontend
