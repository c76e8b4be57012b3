// A small HTTP/1.1 server (Boost.Beast) for `mqtt-stat --prometheus`: serves
// a fixed set of pages (path -> content type and a function making the body)
// to GET and HEAD; another path is 404, another method 405.
//
// Meant to face scrapers, not to trust them: a request line plus headers
// larger than `header_limit` gets 431 and a close, a request with a body 413,
// anything unparsable 400; a request must arrive whole within `read_timeout`
// (an idle keep-alive connection is closed then too) and a response be taken
// within `write_timeout`; beyond `max_connections` new connections are closed
// at once. Keep-alive and several connections at a time are fine.
//
// Single-threaded: everything runs on the io_context given (one thread runs
// it), the page functions included. The io_context must outlive the server;
// connections still open when the server is destroyed end with the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mqtt_stat {

struct http_limits {
    std::size_t header_limit = 8192;  // bytes: request line and headers
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds write_timeout{10'000};
    std::size_t max_connections = 64;
};

struct http_page {
    std::string content_type;
    std::function<std::string()> body;  // called for each GET
};

class http_server {
  public:
    http_server(boost::asio::io_context& io, std::map<std::string, http_page> pages,
                http_limits limits = {});
    ~http_server();  // stop()
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and listens on `endpoint` and starts accepting. False, with a
    // one-line `error`, when it cannot be bound.
    bool listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string& error);

    // Where it listens (the port chosen for port 0).
    std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;

    // Closes the listening sockets; open connections finish their request.
    void stop();

    struct shared;  // pages, limits, the connection count: shared with connections

  private:
    boost::asio::io_context& io_;
    std::shared_ptr<shared> shared_;
    // Shared with their pending accept handlers, which may outlive the server.
    std::vector<std::shared_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
};

}  // namespace mqtt_stat
