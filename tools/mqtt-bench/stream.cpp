#include "tools/mqtt-bench/stream.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <type_traits>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;

const char* name_of(connect_stage s) {
    switch (s) {
        case connect_stage::tcp:
            return "tcp";
        case connect_stage::tls:
            return "tls";
        case connect_stage::websocket:
            return "websocket";
    }
    return "?";
}

namespace {

using tls_socket = asio::ssl::stream<tcp::socket>;

// Layer: tcp::socket, tls_socket, websocket::stream<tcp::socket> or
// websocket::stream<tls_socket>.
template <class Layer>
class layered_stream final : public stream {
    static constexpr bool is_ws =
        !std::is_same_v<Layer, tcp::socket> && !std::is_same_v<Layer, tls_socket>;
    static constexpr bool is_tls =
        std::is_same_v<Layer, tls_socket> || std::is_same_v<Layer, websocket::stream<tls_socket>>;

  public:
    template <class... Args>
    layered_stream(const config::listener_url& url, bool verify_host, Args&&... args)
        : layer_(std::forward<Args>(args)...), url_(url), verify_host_(verify_host) {}

    void async_connect(const std::vector<tcp::endpoint>& endpoints, connect_handler h) override {
        asio::async_connect(lowest(), endpoints,
                            [this, h = std::move(h)](error_code ec, const tcp::endpoint&) mutable {
                                if (ec) return h(ec, connect_stage::tcp);
                                lowest().set_option(tcp::no_delay(true), ec);
                                tls_handshake(std::move(h));
                            });
    }

    void async_read_some(asio::mutable_buffer b, io_handler h) override {
        if constexpr (is_ws) {
            layer_.async_read_some(b, [this, h = std::move(h)](error_code ec, std::size_t n) {
                if (!ec && layer_.got_text()) ec = websocket::error::bad_data_frame;
                h(ec, n);
            });
        } else {
            layer_.async_read_some(b, std::move(h));
        }
    }

    void async_write(asio::const_buffer b, io_handler h) override {
        if constexpr (is_ws)
            layer_.async_write(b, std::move(h));
        else
            asio::async_write(layer_, b, std::move(h));
    }

    void close() override {
        error_code ignored;
        lowest().shutdown(tcp::socket::shutdown_both, ignored);
        lowest().close(ignored);
    }

  private:
    tcp::socket& lowest() { return beast::get_lowest_layer(layer_); }

    tls_socket& tls_layer() {
        if constexpr (std::is_same_v<Layer, tls_socket>)
            return layer_;
        else
            return layer_.next_layer();
    }

    void tls_handshake(connect_handler h) {
        if constexpr (is_tls) {
            auto& s = tls_layer();
            error_code ignored;
            asio::ip::make_address(url_.host, ignored);
            if (ignored)  // a name, not an address: send it as SNI
                SSL_set_tlsext_host_name(s.native_handle(), url_.host.c_str());
            if (verify_host_) s.set_verify_callback(asio::ssl::host_name_verification(url_.host));
            s.async_handshake(asio::ssl::stream_base::client,
                              [this, h = std::move(h)](error_code ec) mutable {
                                  if (ec) return h(ec, connect_stage::tls);
                                  ws_handshake(std::move(h));
                              });
        } else {
            ws_handshake(std::move(h));
        }
    }

    void ws_handshake(connect_handler h) {
        if constexpr (is_ws) {
            layer_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
                req.set(beast::http::field::sec_websocket_protocol, "mqtt");
                req.set(beast::http::field::user_agent, "mqtt-bench");
            }));
            websocket::stream_base::timeout limits{};
            limits.handshake_timeout = std::chrono::seconds(5);
            limits.idle_timeout = websocket::stream_base::none();
            limits.keep_alive_pings = false;
            layer_.set_option(limits);
            layer_.binary(true);
            layer_.auto_fragment(false);
            layer_.read_message_max(0);
            const bool v6 = url_.is_ipv6();
            host_header_ =
                (v6 ? "[" + url_.host + "]" : url_.host) + ":" + std::to_string(url_.port);
            layer_.async_handshake(
                response_, host_header_, url_.path, [this, h = std::move(h)](error_code ec) {
                    if (!ec) {
                        auto chosen = response_[beast::http::field::sec_websocket_protocol];
                        if (chosen != "mqtt") ec = websocket::error::upgrade_declined;
                    }
                    h(ec, connect_stage::websocket);
                });
        } else {
            asio::post(lowest().get_executor(),
                       [h = std::move(h)] { h(error_code{}, connect_stage::tcp); });
        }
    }

    Layer layer_;
    const config::listener_url& url_;
    bool verify_host_;
    std::string host_header_;
    websocket::response_type response_;
};

}  // namespace

std::unique_ptr<stream> make_stream(asio::io_context& ioc, const config::listener_url& url,
                                    asio::ssl::context* tls, bool verify_host) {
    if (url.scheme == "tcp") return std::make_unique<layered_stream<tcp::socket>>(url, false, ioc);
    if (url.scheme == "tls")
        return std::make_unique<layered_stream<tls_socket>>(url, verify_host, ioc, *tls);
    if (url.scheme == "ws")
        return std::make_unique<layered_stream<websocket::stream<tcp::socket>>>(url, false, ioc);
    return std::make_unique<layered_stream<websocket::stream<tls_socket>>>(url, verify_host, ioc,
                                                                           *tls);
}

asio::ssl::context make_tls_context(const std::string& cafile, bool insecure) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3);
    if (insecure) {
        ctx.set_verify_mode(asio::ssl::verify_none);
        return ctx;
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (cafile.empty())
        ctx.set_default_verify_paths();
    else
        ctx.load_verify_file(cafile);
    return ctx;
}

}  // namespace bench
