// The HTTP server of mqtt-stat --prometheus; see http_server.hpp.
#include "tools/mqtt-stat/http_server.hpp"

#include <array>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace mqtt_stat {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_server::shared {
    std::map<std::string, http_page> pages;
    http_limits limits;
    std::size_t connections = 0;  // open now
};

namespace {

constexpr std::chrono::milliseconds linger_time{2000};  // draining after an error reply
constexpr std::size_t linger_bytes = 1 << 20;

// One client connection: read a request, answer it, again while keep-alive.
class connection : public std::enable_shared_from_this<connection> {
  public:
    connection(tcp::socket socket, std::shared_ptr<http_server::shared> shared)
        : stream_(std::move(socket)),
          shared_(std::move(shared)),
          buffer_(shared_->limits.header_limit + 4096) {
        ++shared_->connections;
    }
    ~connection() { --shared_->connections; }

    void start() { read(); }

  private:
    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.header_limit));
        parser_->body_limit(0);  // GET and HEAD carry no body
        stream_.expires_after(shared_->limits.read_timeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            return reply_error(http::status::request_header_fields_too_large);
        if (ec == http::error::body_limit || ec == http::error::unexpected_body)
            return reply_error(http::status::payload_too_large);
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
            ec == asio::error::eof)
            return;  // gone or silent: close
        if (ec) return reply_error(http::status::bad_request);
        answer(parser_->get());
    }

    void answer(const http::request<http::empty_body>& req) {
        std::string_view path(req.target().data(), req.target().size());
        if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
        const auto page = shared_->pages.find(std::string(path));
        const bool head = req.method() == http::verb::head;
        response_.emplace();
        response_->version(req.version());
        response_->keep_alive(req.keep_alive());
        if (page == shared_->pages.end()) {
            fill(http::status::not_found, "text/plain; charset=utf-8", "not found\n", head);
        } else if (req.method() != http::verb::get && !head) {
            fill(http::status::method_not_allowed, "text/plain; charset=utf-8",
                 "method not allowed\n", false);
            response_->set(http::field::allow, "GET, HEAD");
        } else {
            fill(http::status::ok, page->second.content_type, page->second.body(), head);
        }
        write(false);
    }

    void reply_error(http::status status) {
        response_.emplace();
        response_->version(11);
        response_->keep_alive(false);
        fill(status, "text/plain; charset=utf-8", std::string(http::obsolete_reason(status)) + "\n",
             false);
        write(true);
    }

    void fill(http::status status, std::string_view type, std::string body, bool head) {
        response_->result(status);
        response_->set(http::field::server, "mqtt-stat");
        response_->set(http::field::content_type, beast::string_view(type.data(), type.size()));
        const std::size_t size = body.size();
        if (!head) response_->body() = std::move(body);
        response_->content_length(size);
    }

    void write(bool after_error) {
        stream_.expires_after(shared_->limits.write_timeout);
        http::async_write(
            stream_, *response_,
            [self = shared_from_this(), after_error](beast::error_code ec, std::size_t) {
                if (ec) return;
                if (after_error) return self->linger();
                if (self->response_->need_eof()) return self->shut_down();
                self->read();
            });
    }

    void shut_down() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    // After an error reply the client may still be sending (a huge header):
    // closing now would reset the connection and could lose the reply, so
    // read and drop what comes, for a bounded time and amount.
    void linger() {
        shut_down();
        stream_.expires_after(linger_time);
        drain();
    }

    void drain() {
        stream_.async_read_some(asio::buffer(discard_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->drained_ += n;
                                    if (!ec && self->drained_ < linger_bytes) self->drain();
                                });
    }

    beast::tcp_stream stream_;
    std::shared_ptr<http_server::shared> shared_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    std::optional<http::response<http::string_body>> response_;
    std::array<char, 4096> discard_{};
    std::size_t drained_ = 0;
};

void accept_next(std::shared_ptr<tcp::acceptor> acceptor,
                 std::shared_ptr<http_server::shared> shared) {
    auto& a = *acceptor;
    a.async_accept([acceptor, shared](beast::error_code ec, tcp::socket socket) mutable {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
        if (ec) {
            // Out of descriptors or the like: try again shortly, do not spin.
            auto timer = std::make_shared<asio::steady_timer>(acceptor->get_executor(),
                                                              std::chrono::milliseconds(100));
            timer->async_wait([timer, acceptor, shared](beast::error_code) {
                if (acceptor->is_open()) accept_next(acceptor, shared);
            });
            return;
        }
        if (shared->connections < shared->limits.max_connections)
            std::make_shared<connection>(std::move(socket), shared)->start();
        // else: the socket closes here, unanswered
        accept_next(std::move(acceptor), std::move(shared));
    });
}

}  // namespace

http_server::http_server(asio::io_context& io, std::map<std::string, http_page> pages,
                         http_limits limits)
    : io_(io), shared_(std::make_shared<shared>()) {
    shared_->pages = std::move(pages);
    shared_->limits = limits;
}

http_server::~http_server() {
    stop();
}

bool http_server::listen(const tcp::endpoint& endpoint, std::string& error) {
    auto acceptor = std::make_shared<tcp::acceptor>(io_);
    beast::error_code ec;
    const auto where = [&] {
        return endpoint.address().to_string() + " port " + std::to_string(endpoint.port());
    };
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        error = "cannot listen on " + where() + ": " + ec.message();
        return false;
    }
    acceptors_.push_back(acceptor);
    accept_next(acceptor, shared_);
    return true;
}

std::vector<tcp::endpoint> http_server::local_endpoints() const {
    std::vector<tcp::endpoint> out;
    for (const auto& a : acceptors_) {
        beast::error_code ec;
        const auto e = a->local_endpoint(ec);
        if (!ec) out.push_back(e);
    }
    return out;
}

void http_server::stop() {
    for (auto& a : acceptors_) {
        beast::error_code ignored;
        a->close(ignored);
    }
    acceptors_.clear();
}

}  // namespace mqtt_stat
