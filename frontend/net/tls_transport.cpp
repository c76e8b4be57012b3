#include "frontend/net/tls_transport.hpp"

#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <cerrno>

namespace frontend {

tls_transport::tls_transport(tcp_socket socket, boost::asio::ssl::context& ctx)
    : socket_(std::move(socket)), ssl_(SSL_new(ctx.native_handle())) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);
    BIO* bio = ssl_ && !ec && bio_method() ? BIO_new(bio_method()) : nullptr;
    if (bio == nullptr) {
        ssl_.reset();  // every operation fails: the session closes the connection
        return;
    }
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);  // one reference, for both directions
    // One read takes in all that has arrived, and the BIO notes whether it
    // emptied the socket (see read_view_now()).
    SSL_set_read_ahead(ssl_.get(), 1);
    // A write may be cut by a full socket and resumed from where it stopped.
    SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_accept_state(ssl_.get());
}

// What OpenSSL's socket BIO does (bss_sock.c), on this transport's socket,
// plus noting short reads. One difference: only EAGAIN and EINTR are retried;
// bss_sock also retries EPROTO, ENOTCONN, EINPROGRESS and EALREADY, which on
// an accepted, connected socket mean it is broken (closing is right).
const BIO_METHOD* tls_transport::bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(
            BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "mqtt tls socket");
        if (m == nullptr || BIO_meth_set_read(m, bio_read) != 1 ||
            BIO_meth_set_write(m, bio_write) != 1 || BIO_meth_set_ctrl(m, bio_ctrl) != 1) {
            BIO_meth_free(m);
            return static_cast<BIO_METHOD*>(nullptr);
        }
        return m;
    }();
    return method;
}

int tls_transport::bio_read(BIO* bio, char* out, int size) {
    auto* self = of(bio);
    BIO_clear_retry_flags(bio);
    if (out == nullptr || size <= 0) return 0;
    const ssize_t n = ::recv(self->socket_.native_handle(), out, static_cast<std::size_t>(size), 0);
    // Fewer bytes than asked for, EAGAIN, EOF or an error: nothing more waits.
    self->drained_ = n < size;
    if (n > 0) return static_cast<int>(n);
    if (n == 0) {
        self->eof_ = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        BIO_set_retry_read(bio);
    }
    return n == 0 ? 0 : -1;
}

int tls_transport::bio_write(BIO* bio, const char* in, int size) {
    auto* self = of(bio);
    BIO_clear_retry_flags(bio);
    if (size <= 0) return 0;
    const ssize_t n =
        ::send(self->socket_.native_handle(), in, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
    return -1;
}

long tls_transport::bio_ctrl(BIO* bio, int cmd, long, void* ptr) {
    switch (cmd) {
        case BIO_C_GET_FD: {
            const int fd = of(bio)->socket_.native_handle();
            if (ptr != nullptr) *static_cast<int*>(ptr) = fd;
            return fd;
        }
        case BIO_CTRL_FLUSH:  // nothing is buffered here
            return 1;
        case BIO_CTRL_EOF:  // libssl tells an unexpected EOF from an error by it
            return of(bio)->eof_ ? 1 : 0;
        default:  // everything else (kTLS queries, pending counts): not supported
            return 0;
    }
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
