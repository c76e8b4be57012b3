// TLS over TCP (tls://) for the session template: OpenSSL works on the
// non-blocking socket itself (through a socket BIO of ours), and Asio only says when the socket
// is readable or writable (async_wait). So an idle connection holds no
// buffer of ours or of Asio's (asio::ssl::stream keeps two 17 KiB buffers
// per connection), and with SSL_MODE_RELEASE_BUFFERS (set on the context)
// OpenSSL gives its record buffers back between records too: what an idle
// TLS connection costs is the SSL object. See transport.hpp for the
// interface. Completions are always posted, never run inline. Reads go into
// the thread's shared buffer (read_buffer.hpp), so no read buffer is kept
// per connection either. OpenSSL reads ahead (a whole record buffer per
// read: one system call takes in everything that has arrived, instead of a
// record header, its body and an EAGAIN), and our own socket BIO notes
// whether that read came back short; then the next read waits for the
// socket instead of asking it for an EAGAIN. System calls are what a small
// message costs most on a paravirtualised machine. (A callback on OpenSSL's
// socket BIO could note it too, but libssl calls BIO_ctrl some 25 times per
// record, and a callback doubles what each call costs.)
//
// Owned by its session, on the frontend's io_context thread. After the
// session closes the socket, no OpenSSL call touches the descriptor again
// (its number may already belong to another connection).
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

#include "frontend/net/handler_memory.hpp"
#include "frontend/net/read_buffer.hpp"
#include "frontend/net/tcp_socket.hpp"

namespace frontend {

class tls_transport {
  public:
    static constexpr const char* name = "TLS";

    tls_transport(tcp_socket socket, boost::asio::ssl::context& ctx);
    // The BIO's data points to this object: it stays where it was made.
    tls_transport(const tls_transport&) = delete;
    tls_transport& operator=(const tls_transport&) = delete;

    auto get_executor() { return socket_.get_executor(); }
    tcp_socket& socket() { return socket_; }
    SSL* native_tls() { return ssl_.get(); }

    template <class Handler>
    void async_handshake(Handler&& h) {
        drive([this] { return attempt(SSL_do_handshake(ssl_.get()) == 1, 0); },
              [this, h = std::forward<Handler>(h)](const boost::system::error_code& ec,
                                                   std::size_t) mutable {
                  if (ec) discard_input();
                  drained_ = false;  // the first read asks the socket
                  h(ec);
              });
    }

    // Tries SSL_read at once (posted) and waits for the socket only after
    // OpenSSL found it empty: Asio's readiness is edge-triggered, and bytes
    // that arrived with the end of the handshake raise no new edge. (The
    // wait's re-arm is needed as well: see tcp_transport::async_read_view.)
    template <class Handler>
    void async_read_view(Handler&& h) {
        boost::asio::post(socket_.get_executor(),
                          with_handler_memory([this, h = std::forward<Handler>(h)]() mutable {
                              read_view_now(std::move(h));
                          }));
    }

    // All of `b`; the buffer stays put until the handler runs.
    template <class Buffer, class Handler>
    void async_write(const Buffer& b, Handler&& h) {
        // The progress lives in the operation (drive moves it along), not in
        // every connection.
        drive(
            [this, data = static_cast<const char*>(b.data()), size = b.size(),
             written = std::size_t{0}]() mutable {
                while (written < size) {
                    std::size_t n = 0;
                    if (SSL_write_ex(ssl_.get(), data + written, size - written, &n) != 1)
                        return attempt(false, 0);
                    written += n;
                }
                return attempt(true, written);
            },
            std::forward<Handler>(h));
    }

    template <class Handler>
    void async_shutdown(Handler&& h) {
        // close_notify sent is enough: the session closes the socket next.
        drive([this] { return attempt(SSL_shutdown(ssl_.get()) >= 0, 0); },
              [h = std::forward<Handler>(h)](const boost::system::error_code& ec,
                                             std::size_t) mutable { h(ec); });
    }

  private:
    enum class wait { none, read, write };
    struct outcome {
        wait want = wait::none;  // none: finished (see ec)
        boost::system::error_code ec;
        std::size_t n = 0;
    };

    // Before an OpenSSL call, so that SSL_get_error sees only its errors. The
    // queue is almost always empty, and ERR_clear_error() costs some 400
    // instructions even then (it visits every slot).
    static void clear_errors() {
        if (ERR_peek_error() != 0) ERR_clear_error();
    }
    // After an OpenSSL call: finished, failed (ec) or must wait for the socket.
    outcome attempt(bool ok, std::size_t n);
    // A refused handshake: what the client sent meanwhile (a TLS 1.3 client
    // may already have sent its first packets) is read and dropped, so that
    // closing sends FIN after our alert, not a RST that may destroy it.
    void discard_input();

    template <class Handler>
    void wait_then_read_view(boost::asio::socket_base::wait_type what, Handler&& h) {
        socket_.async_wait(what,
                           with_handler_memory([this, h = std::forward<Handler>(h)](
                                                   const boost::system::error_code& ec) mutable {
                               if (ec) {
                                   h(ec, std::string_view());
                                   return;
                               }
                               drained_ = false;  // readable (or writable) again
                               read_view_now(std::move(h));
                           }));
    }

    // One SSL_read into the shared buffer; h gets its bytes, or the wait
    // starts again (a partial record, or TLS wants to write first).
    template <class Handler>
    void read_view_now(Handler&& h) {
        if (!socket_.is_open() || !ssl_) {
            h(boost::asio::error::operation_aborted, std::string_view());
            return;
        }
        if (drained_ && SSL_has_pending(ssl_.get()) == 0) {
            // The last read emptied the socket and OpenSSL holds no bytes:
            // another one would only say EAGAIN.
            wait_then_read_view(boost::asio::socket_base::wait_read, std::forward<Handler>(h));
            return;
        }
        const auto buffer = shared_read_buffer();
        clear_errors();
        std::size_t n = 0;
        const bool ok = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n) == 1;
        const auto o = attempt(ok, n);  // (not in one expression: n is set by the call)
        if (o.want == wait::none) {
            h(o.ec, std::string_view(buffer.data(), o.n));
            return;
        }
        wait_then_read_view(o.want == wait::read ? boost::asio::socket_base::wait_read
                                                 : boost::asio::socket_base::wait_write,
                            std::forward<Handler>(h));
    }

    // Calls `op` until it finishes, waiting for the socket in between; then
    // posts done(ec, n).
    template <class Op, class Done>
    void drive(Op op, Done&& done) {
        outcome o;
        if (!socket_.is_open() || !ssl_) {
            o.ec = boost::asio::error::operation_aborted;
        } else {
            clear_errors();
            o = op();
        }
        if (o.want == wait::none) {
            boost::asio::post(socket_.get_executor(),
                              with_handler_memory([done = std::forward<Done>(done), o]() mutable {
                                  done(o.ec, o.n);
                              }));
            return;
        }
        socket_.async_wait(
            o.want == wait::read ? boost::asio::socket_base::wait_read
                                 : boost::asio::socket_base::wait_write,
            with_handler_memory([this, op = std::move(op), done = std::forward<Done>(done)](
                                    const boost::system::error_code& ec) mutable {
                if (ec) {
                    done(ec, 0);
                    return;
                }
                drive(std::move(op), std::move(done));
            }));
    }

    struct ssl_free {
        void operator()(SSL* s) const { SSL_free(s); }
    };

    // The socket BIO's methods (tls_transport.cpp): the BIO's data is this
    // object, so they use the socket as it is now (closed: they fail).
    static int bio_read(BIO* bio, char* out, int size);
    static int bio_write(BIO* bio, const char* in, int size);
    static long bio_ctrl(BIO* bio, int cmd, long num, void* ptr);
    static const BIO_METHOD* bio_method();
    static tls_transport* of(BIO* bio) { return static_cast<tls_transport*>(BIO_get_data(bio)); }

    tcp_socket socket_;
    std::unique_ptr<SSL, ssl_free> ssl_;
    bool drained_ = false;  // the last read of the socket found it empty
    bool eof_ = false;      // a read of the socket returned end of file
};

}  // namespace frontend
