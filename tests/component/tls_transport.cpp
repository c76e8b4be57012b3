// frontend::tls_transport over a real loopback TCP connection, against an
// OpenSSL client on a thread of its own: what arrives is read whole and at
// once, whether the client's records share a segment, are cut in two, or are
// many, and a client that vanishes ends the read instead of hanging it; a
// write larger than the socket buffers goes out whole. The
// transport reads ahead and skips the read it knows would say EAGAIN (see
// tls_transport.hpp), so these are the cases where a wrong skip would leave
// bytes in OpenSSL's buffer with nothing to wake the session.
#include "frontend/net/tls_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "frontend/net/tcp_socket.hpp"

BOOST_AUTO_TEST_SUITE(tls_transport)

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// A self-signed P-256 certificate and its key, made here: no files.
void use_fresh_certificate(asio::ssl::context& ctx) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    BOOST_REQUIRE(key);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    BOOST_REQUIRE(cert);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    auto* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    BOOST_REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
    BOOST_REQUIRE(SSL_CTX_use_certificate(ctx.native_handle(), cert.get()) == 1);
    BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx.native_handle(), key.get()) == 1);
}

// A TLS client on a blocking loopback socket, for a thread of its own.
// OpenSSL works on memory BIOs and the client moves the bytes itself, so a
// test decides how records are cut into segments.
class client {
  public:
    explicit client(unsigned short port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ctx_ = SSL_CTX_new(TLS_client_method());
        ssl_ = SSL_new(ctx_);
        in_ = BIO_new(BIO_s_mem());
        out_ = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl_, in_, out_);  // the SSL owns both
        SSL_set_connect_state(ssl_);
    }
    ~client() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
        if (fd_ >= 0) ::close(fd_);
    }
    bool handshake() {
        if (!connected_) return false;
        for (;;) {
            const int r = SSL_do_handshake(ssl_);
            send_raw(take_output());
            if (r == 1) return true;
            if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ) return false;
            char buffer[16384];
            const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) return false;
            BIO_write(in_, buffer, static_cast<int>(n));
        }
    }
    // Records of `text` (at most 16 KiB each), encrypted but not sent.
    std::string records(const std::string& text) {
        std::size_t written = 0;
        while (written < text.size()) {
            std::size_t n = 0;
            if (SSL_write_ex(ssl_, text.data() + written, text.size() - written, &n) != 1) break;
            written += n;
        }
        return take_output();
    }
    void send_raw(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;
            sent += static_cast<std::size_t>(n);
        }
    }
    // Reads and decrypts until `size` bytes of text came, or the connection
    // ended; sleeps `pause` first (the server's writes meanwhile fill the
    // socket buffers).
    std::string read_text(std::size_t size, std::chrono::milliseconds pause) {
        std::this_thread::sleep_for(pause);
        std::string text;
        char buffer[16384];
        while (text.size() < size) {
            std::size_t n = 0;
            if (SSL_read_ex(ssl_, buffer, sizeof buffer, &n) == 1) {
                text.append(buffer, n);
                continue;
            }
            if (SSL_get_error(ssl_, 0) != SSL_ERROR_WANT_READ) break;
            const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
            if (got <= 0) break;
            BIO_write(in_, buffer, static_cast<int>(got));
        }
        return text;
    }
    // A FIN without close_notify (the socket stays open for hold()).
    void end_without_close_notify() { ::shutdown(fd_, SHUT_WR); }
    // Gone without close_notify, as a client whose machine lost power.
    void vanish() {
        ::close(fd_);
        fd_ = -1;
    }

  private:
    std::string take_output() {
        char* data = nullptr;
        const long size = BIO_get_mem_data(out_, &data);
        std::string bytes(data, static_cast<std::size_t>(size));
        (void)BIO_reset(out_);
        return bytes;
    }

    int fd_ = -1;
    bool connected_ = false;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    BIO* in_ = nullptr;   // what the server sent, for OpenSSL
    BIO* out_ = nullptr;  // what OpenSSL wrote, for the socket
};

// A tls_transport accepted on a loopback port, reading into `received`.
struct server_fixture {
    asio::io_context io;
    asio::ssl::context ctx{asio::ssl::context::tls_server};
    frontend::tcp_acceptor acceptor{io, {asio::ip::address_v4::loopback(), 0}};
    std::optional<frontend::tls_transport> transport;
    std::string received;
    std::optional<boost::system::error_code> read_error;
    bool handshake_done = false;

    server_fixture() {
        use_fresh_certificate(ctx);
        SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    }
    unsigned short port() const { return acceptor.local_endpoint().port(); }

    // Accepts one connection, completes its handshake and starts reading.
    void accept() {
        acceptor.async_accept([this](const boost::system::error_code& ec, frontend::tcp_socket s) {
            BOOST_REQUIRE(!ec);
            transport.emplace(std::move(s), ctx);
            transport->async_handshake([this](const boost::system::error_code& hec) {
                BOOST_REQUIRE_MESSAGE(!hec, hec.message());
                handshake_done = true;
                read_more();
            });
        });
    }
    void read_more() {
        transport->async_read_view(
            [this](const boost::system::error_code& ec, std::string_view bytes) {
                if (ec) {
                    read_error = ec;
                    return;
                }
                received.append(bytes);
                read_more();
            });
    }
    // Runs the io_context until `done` or three seconds passed, then lets
    // the client go (see hold()).
    template <class Done>
    bool run_until(Done done) {
        const auto give_up = std::chrono::steady_clock::now() + 3s;
        while (!done() && std::chrono::steady_clock::now() < give_up) {
            io.restart();
            io.run_for(5ms);
        }
        finished = true;
        return done();
    }
    // For the client: keeps its socket open and silent until the server side
    // has seen what it waited for or given up. Closing earlier would wake a
    // server that waits for nothing, and hide the bug the test looks for.
    void hold() const {
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (!finished && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(5ms);
    }
    std::atomic<bool> finished = false;
};

// The client's side of a test, on its own thread: handshake, then `then`.
template <class Then>
std::thread client_thread(unsigned short port, Then then) {
    return std::thread([port, then] {
        client c(port);
        if (!c.handshake()) return;
        then(c);
    });
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(two_records_in_one_segment_are_both_read, server_fixture) {
    accept();
    std::atomic<bool> sent = false;
    auto t = client_thread(port(), [&](client& c) {
        // One send(): the second record waits in OpenSSL's read-ahead
        // buffer after the first is returned, and no more bytes will come.
        auto bytes = c.records("first record|");
        bytes += c.records("second record");  // (in this order: sequence numbers)
        c.send_raw(bytes);
        sent = true;
        hold();
    });
    const bool ok = run_until([&] { return received == "first record|second record"; });
    t.join();
    BOOST_TEST(ok, "received: '" << received
                                 << "', error: " << (read_error ? read_error->message() : "none"));
    BOOST_TEST(sent.load());
}

BOOST_FIXTURE_TEST_CASE(a_record_cut_in_two_is_read_when_the_rest_arrives, server_fixture) {
    accept();
    auto t = client_thread(port(), [&](client& c) {
        const auto bytes = c.records("a record sent in two pieces");
        c.send_raw(bytes.substr(0, 9));  // the header and a few bytes
        std::this_thread::sleep_for(100ms);
        c.send_raw(bytes.substr(9));
        hold();
    });
    const bool ok = run_until([&] { return received == "a record sent in two pieces"; });
    t.join();
    BOOST_TEST(ok, "received " << received.size() << " bytes");
}

BOOST_FIXTURE_TEST_CASE(many_full_records_arrive_whole, server_fixture) {
    accept();
    std::string text;
    for (int i = 0; text.size() < 300 * 1024; ++i) text += "line " + std::to_string(i) + "\n";
    auto t = client_thread(port(), [&](client& c) {
        c.send_raw(c.records(text));  // 19 full records and a short one, at once
        hold();
    });
    const bool ok = run_until([&] { return received.size() >= text.size(); });
    t.join();
    BOOST_TEST(ok, "received " << received.size() << " of " << text.size() << " bytes");
    BOOST_TEST((received == text));
}

BOOST_FIXTURE_TEST_CASE(a_client_that_vanishes_ends_the_read, server_fixture) {
    accept();
    auto t = client_thread(port(), [&](client& c) {
        c.send_raw(c.records("last words"));
        std::this_thread::sleep_for(100ms);
        c.vanish();
    });
    const bool ok = run_until([&] { return read_error.has_value(); });
    t.join();
    BOOST_TEST(ok, "the read neither failed nor ended");
    BOOST_TEST(received == "last words");
    BOOST_TEST(handshake_done);
}

BOOST_FIXTURE_TEST_CASE(an_end_without_close_notify_is_named_so, server_fixture) {
    accept();
    auto t = client_thread(port(), [&](client& c) {
        c.send_raw(c.records("no goodbye"));
        c.end_without_close_notify();
        hold();
    });
    const bool ok = run_until([&] { return read_error.has_value(); });
    t.join();
    BOOST_TEST(ok, "the read neither failed nor ended");
    BOOST_TEST(received == "no goodbye");
    // The socket said end of file (the BIO answers BIO_CTRL_EOF), so OpenSSL
    // names it: an end without close_notify, not some socket error.
    BOOST_REQUIRE(read_error.has_value());
    BOOST_TEST((read_error->category() == asio::error::get_ssl_category()), read_error->message());
    BOOST_TEST(ERR_GET_REASON(static_cast<unsigned long>(read_error->value())) ==
               SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

BOOST_FIXTURE_TEST_CASE(a_write_larger_than_the_socket_buffers_completes, server_fixture) {
    // 8 MiB cannot fit in the socket buffers while the client sleeps: the
    // transport's writes come back short or with EAGAIN, it waits for the
    // socket, and goes on from where it stopped.
    std::string text;
    for (int i = 0; text.size() < (8u << 20); ++i) text += "row " + std::to_string(i) + "\n";
    std::optional<boost::system::error_code> write_error;
    std::size_t written = 0;
    acceptor.async_accept([&](const boost::system::error_code& ec, frontend::tcp_socket s) {
        BOOST_REQUIRE(!ec);
        transport.emplace(std::move(s), ctx);
        transport->async_handshake([&](const boost::system::error_code& hec) {
            BOOST_REQUIRE_MESSAGE(!hec, hec.message());
            transport->async_write(asio::buffer(text),
                                   [&](const boost::system::error_code& wec, std::size_t n) {
                                       write_error = wec;
                                       written = n;
                                   });
        });
    });
    std::string read;
    auto t = client_thread(port(), [&](client& c) { read = c.read_text(text.size(), 300ms); });
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!write_error && std::chrono::steady_clock::now() < give_up) {
        io.restart();
        io.run_for(5ms);
    }
    finished = true;
    t.join();
    BOOST_REQUIRE(write_error.has_value());
    BOOST_TEST(!*write_error, write_error->message());
    BOOST_TEST(written == text.size());
    BOOST_TEST(read.size() == text.size());
    BOOST_TEST((read == text));
}

BOOST_AUTO_TEST_SUITE_END()
