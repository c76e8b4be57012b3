#include "frontend/net/tls_transport.hpp"

#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <cerrno>

namespace frontend {

tls_transport::tls_transport(tcp_socket socket, boost::asio::ssl::context& ctx)
    : socket_(std::move(socket)), ssl_(SSL_new(ctx.native_handle())) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    if (!ssl_ || ec || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
        ssl_.reset();  // every operation fails: the session closes the connection
        return;
    }
    // One read takes in all that has arrived, and the BIO's callback notes
    // whether it emptied the socket (see read_view_now()).
    SSL_set_read_ahead(ssl_.get(), 1);
    BIO* bio = SSL_get_rbio(ssl_.get());
    BIO_set_callback_arg(bio, reinterpret_cast<char*>(this));
    BIO_set_callback_ex(bio, note_read);
    // A write may be cut by a full socket and resumed from where it stopped.
    SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_accept_state(ssl_.get());
}

long tls_transport::note_read(BIO* bio, int oper, const char*, std::size_t len, int, long, int ret,
                              std::size_t* processed) {
    if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
        auto* self = reinterpret_cast<tls_transport*>(BIO_get_callback_arg(bio));
        // Fewer bytes than asked for, EAGAIN, EOF or an error: nothing more waits.
        self->drained_ = ret <= 0 || processed == nullptr || *processed < len;
    }
    return oper & BIO_CB_RETURN ? ret : 1;  // (before a call: let it proceed)
}

void tls_transport::discard_input() {
    if (!socket_.is_open()) return;
    char sink[4096];
    for (int i = 0; i < 16; ++i)
        if (::recv(socket_.native_handle(), sink, sizeof sink, MSG_DONTWAIT) <= 0) return;
}

tls_transport::outcome tls_transport::attempt(bool ok, std::size_t n) {
    outcome o;
    if (ok) {
        o.n = n;
        return o;
    }
    const int saved_errno = errno;
    switch (SSL_get_error(ssl_.get(), 0)) {
        case SSL_ERROR_WANT_READ:
            o.want = wait::read;
            return o;
        case SSL_ERROR_WANT_WRITE:
            o.want = wait::write;
            return o;
        case SSL_ERROR_ZERO_RETURN:  // close_notify
            o.ec = boost::asio::error::eof;
            return o;
        case SSL_ERROR_SYSCALL:
            // No error queued: the peer closed without close_notify (errno 0)
            // or the socket failed.
            if (const auto e = ERR_get_error(); e != 0)
                o.ec = {static_cast<int>(e), boost::asio::error::get_ssl_category()};
            else if (saved_errno != 0 && saved_errno != EAGAIN)
                o.ec = {saved_errno, boost::system::system_category()};
            else
                o.ec = boost::asio::ssl::error::stream_truncated;
            return o;
        default: {
            const auto e = ERR_get_error();
            o.ec = e != 0 ? boost::system::error_code(static_cast<int>(e),
                                                      boost::asio::error::get_ssl_category())
                          : boost::asio::ssl::error::unspecified_system_error;
            return o;
        }
    }
}

}  // namespace frontend
