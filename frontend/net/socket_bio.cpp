#include "frontend/net/socket_bio.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace frontend {
namespace {

socket_bio_state& state_of(BIO* b) {
    return *static_cast<socket_bio_state*>(BIO_get_data(b));
}

bool transient(int e) {
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

int read_ex(BIO* b, char* data, std::size_t size, std::size_t* read) {
    auto& s = state_of(b);
    BIO_clear_retry_flags(b);
    const ssize_t n = ::recv(s.socket->native_handle(), data, size, 0);
    if (n > 0) {
        *read = static_cast<std::size_t>(n);
        s.drained = static_cast<std::size_t>(n) < size;
        return 1;
    }
    s.drained = true;
    if (n == 0) {
        s.eof = true;
    } else if (transient(errno)) {
        BIO_set_retry_read(b);
    }
    return 0;
}

int write_ex(BIO* b, const char* data, std::size_t size, std::size_t* written) {
    auto& s = state_of(b);
    BIO_clear_retry_flags(b);
    const ssize_t n = ::send(s.socket->native_handle(), data, size, MSG_NOSIGNAL);
    if (n >= 0) {
        *written = static_cast<std::size_t>(n);
        return 1;
    }
    if (transient(errno)) BIO_set_retry_write(b);
    return 0;
}

long ctrl(BIO* b, int cmd, long, void*) {
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;
        case BIO_CTRL_EOF:  // what OpenSSL asks to tell an unexpected EOF
            return state_of(b).eof ? 1 : 0;
        default:
            return 0;
    }
}

int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* method() {
    static BIO_METHOD* const m = [] {
        auto* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mqtt socket");
        if (made == nullptr) return made;
        BIO_meth_set_read_ex(made, read_ex);
        BIO_meth_set_write_ex(made, write_ex);
        BIO_meth_set_ctrl(made, ctrl);
        BIO_meth_set_create(made, create);
        return made;
    }();
    return m;
}

}  // namespace

BIO* new_socket_bio(socket_bio_state& state) {
    auto* m = method();
    if (m == nullptr) return nullptr;
    BIO* b = BIO_new(m);
    if (b != nullptr) BIO_set_data(b, &state);
    return b;
}

}  // namespace frontend
