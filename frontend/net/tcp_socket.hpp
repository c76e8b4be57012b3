// The frontend's TCP socket and acceptor types: bound to the io_context's own
// executor instead of Asio's default type-erased any_executor, which costs 32
// more bytes in every socket and more in every pending operation on it (an
// idle client always has one: its read wait). Everything in the frontend runs
// on one io_context, so nothing needs the type erasure.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace frontend {

using tcp_socket =
    boost::asio::ip::tcp::socket::rebind_executor<boost::asio::io_context::executor_type>::other;
using tcp_acceptor =
    boost::asio::ip::tcp::acceptor::rebind_executor<boost::asio::io_context::executor_type>::other;

}  // namespace frontend
