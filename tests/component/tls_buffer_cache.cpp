// frontend::tls_buffer_cache as OpenSSL's allocator: record-buffer sizes are
// served again from the thread's cache (a TLS connection with
// SSL_MODE_RELEASE_BUFFERS takes its buffers from it record after record),
// other sizes pass through, the cache is bounded, realloc keeps its contract,
// and a thread's cache is emptied when the thread ends (the sanitizer stages
// would report a leak otherwise).
#include "frontend/net/tls_buffer_cache.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

BOOST_AUTO_TEST_SUITE(tls_buffer_cache)

namespace {

namespace cache = frontend::tls_buffer_cache;

// Installed before any static initializer of the test binary can allocate
// through OpenSSL (a priority above every default one), so the suite also
// passes when the whole binary runs in one process; each test then checks
// that it took.
struct install_first {
    bool installed = cache::install();
};
__attribute__((init_priority(101))) install_first early_install;

struct installed {
    installed() { BOOST_TEST_REQUIRE(early_install.installed); }
};

void* crypto_malloc(std::size_t n) {
    return CRYPTO_malloc(n, __FILE__, __LINE__);
}
void crypto_free(void* p) {
    CRYPTO_free(p, __FILE__, __LINE__);
}

// Takes `n` buffers of `size` and gives them all back.
void churn(std::size_t n, std::size_t size) {
    std::vector<void*> taken;
    for (std::size_t i = 0; i < n; ++i) taken.push_back(crypto_malloc(size));
    for (void* p : taken) crypto_free(p);
}

void empty_the_cache() {
    // Taking every cached buffer and freeing them past the cache's room is
    // not possible from outside; instead take what is held and keep it.
    std::vector<void*> kept;
    while (cache::thread_counters().held > 0) kept.push_back(crypto_malloc(cache::class_size));
    for (void* p : kept) std::free(p);  // plain malloc chunks: free() is right
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(record_buffer_sizes_come_back_from_the_cache, installed) {
    empty_the_cache();
    void* written = crypto_malloc(16492);  // OpenSSL 3.0's write buffer
    BOOST_TEST_REQUIRE(written != nullptr);
    std::memset(written, 0xab, 16492);
    crypto_free(written);
    BOOST_TEST(cache::thread_counters().held == 1u);

    const auto hits = cache::thread_counters().hits;
    void* read = crypto_malloc(16712);  // its read buffer with read-ahead
    BOOST_TEST(read == written);
    BOOST_TEST(cache::thread_counters().hits == hits + 1);
    BOOST_TEST(cache::thread_counters().held == 0u);
    std::memset(read, 0xcd, cache::class_size);  // the whole class is usable
    crypto_free(read);
    BOOST_TEST(cache::thread_counters().held == 1u);
}

BOOST_FIXTURE_TEST_CASE(other_sizes_pass_through, installed) {
    empty_the_cache();
    for (std::size_t size :
         {std::size_t{1}, std::size_t{100}, std::size_t{4096}, std::size_t{16 * 1024},
          cache::class_size + 64, std::size_t{1 << 20}}) {
        void* p = crypto_malloc(size);
        BOOST_TEST_REQUIRE(p != nullptr);
        std::memset(p, 0x5a, size);
        crypto_free(p);
        BOOST_TEST(cache::thread_counters().held == 0u, "size " << size);
    }
    BOOST_TEST(crypto_malloc(0) == nullptr);  // as OpenSSL's own allocator answers
    crypto_free(nullptr);
}

BOOST_FIXTURE_TEST_CASE(holds_at_most_its_capacity, installed) {
    empty_the_cache();
    churn(cache::capacity + 5, 16600);
    BOOST_TEST(cache::thread_counters().held == cache::capacity);
    const auto hits = cache::thread_counters().hits;
    churn(cache::capacity, 16600);  // all served from the cache
    BOOST_TEST(cache::thread_counters().hits == hits + cache::capacity);
    BOOST_TEST(cache::thread_counters().held == cache::capacity);
}

BOOST_FIXTURE_TEST_CASE(realloc_keeps_its_contract, installed) {
    empty_the_cache();
    churn(1, 16500);
    const auto hits = cache::thread_counters().hits;
    // realloc(nullptr, n) is malloc(n): from the cache.
    auto* p = static_cast<char*>(CRYPTO_realloc(nullptr, 16500, __FILE__, __LINE__));
    BOOST_TEST_REQUIRE(p != nullptr);
    BOOST_TEST(cache::thread_counters().hits == hits + 1);
    std::memset(p, 'x', 16500);
    // Growing keeps the bytes.
    p = static_cast<char*>(CRYPTO_realloc(p, 40000, __FILE__, __LINE__));
    BOOST_TEST_REQUIRE(p != nullptr);
    BOOST_TEST(std::string(p, 16500) == std::string(16500, 'x'));
    crypto_free(p);  // no longer the class's size: freed
    BOOST_TEST(cache::thread_counters().held == 0u);
    // realloc(p, 0) frees p and answers nullptr; a class buffer joins the cache.
    void* q = crypto_malloc(16500);
    BOOST_TEST(CRYPTO_realloc(q, 0, __FILE__, __LINE__) == nullptr);
    BOOST_TEST(cache::thread_counters().held == 1u);
}

BOOST_FIXTURE_TEST_CASE(each_thread_has_its_own_cache_emptied_at_its_end, installed) {
    empty_the_cache();
    cache::counters inside{};
    std::thread t([&] {
        churn(3, 16492);
        churn(3, 16492);
        inside = cache::thread_counters();
    });
    t.join();
    BOOST_TEST(inside.held == 3u);
    BOOST_TEST(inside.hits == 3u);
    // Nothing of that thread's reached this one's cache.
    BOOST_TEST(cache::thread_counters().held == 0u);
    // (Its three buffers were freed when it ended: LeakSanitizer in the asan
    // stage fails this test otherwise.)
}

namespace {

std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> server_context() {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                          SSL_CTX_free);
    BOOST_TEST_REQUIRE(ctx != nullptr);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);  // as frontend_server sets it
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    BOOST_TEST_REQUIRE(key != nullptr);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    BOOST_TEST_REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
    BOOST_TEST_REQUIRE(SSL_CTX_use_certificate(ctx.get(), cert.get()) == 1);
    BOOST_TEST_REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), key.get()) == 1);
    return ctx;
}

// Moves what one side wrote into the other's read BIO.
void pump(BIO* from, BIO* to) {
    char buf[4096];
    int n = 0;
    while ((n = BIO_read(from, buf, sizeof buf)) > 0)
        BOOST_TEST_REQUIRE(BIO_write(to, buf, n) == n);
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_tls_connection_takes_its_record_buffers_from_the_cache, installed) {
    auto sctx = server_context();
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> cctx(SSL_CTX_new(TLS_client_method()),
                                                           SSL_CTX_free);
    std::unique_ptr<SSL, decltype(&SSL_free)> server(SSL_new(sctx.get()), SSL_free);
    std::unique_ptr<SSL, decltype(&SSL_free)> client(SSL_new(cctx.get()), SSL_free);
    // Memory BIOs: what each side writes is pumped to the other by hand.
    BIO* s_in = BIO_new(BIO_s_mem());
    BIO* s_out = BIO_new(BIO_s_mem());
    BIO* c_in = BIO_new(BIO_s_mem());
    BIO* c_out = BIO_new(BIO_s_mem());
    SSL_set_bio(server.get(), s_in, s_out);  // the SSLs own the BIOs now
    SSL_set_bio(client.get(), c_in, c_out);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client.get());
    for (int i = 0;
         i < 10 && !(SSL_is_init_finished(server.get()) && SSL_is_init_finished(client.get()));
         ++i) {
        SSL_do_handshake(client.get());
        pump(c_out, s_in);
        SSL_do_handshake(server.get());
        pump(s_out, c_in);
    }
    BOOST_TEST_REQUIRE(SSL_is_init_finished(server.get()));
    BOOST_TEST_REQUIRE(SSL_is_init_finished(client.get()));

    const auto before = cache::thread_counters().hits;
    const int records = 20;
    for (int i = 0; i < records; ++i) {
        const std::string message = "PUBLISH " + std::to_string(i);
        BOOST_TEST_REQUIRE(SSL_write(client.get(), message.data(), int(message.size())) > 0);
        pump(c_out, s_in);
        char got[64] = {};
        const int n = SSL_read(server.get(), got, sizeof got);
        BOOST_TEST_REQUIRE(n > 0);
        BOOST_TEST(std::string(got, std::size_t(n)) == message);
        const std::string answer = "PUBACK " + std::to_string(i);
        BOOST_TEST_REQUIRE(SSL_write(server.get(), answer.data(), int(answer.size())) > 0);
        pump(s_out, c_in);
        const int m = SSL_read(client.get(), got, sizeof got);
        BOOST_TEST_REQUIRE(m > 0);
        BOOST_TEST(std::string(got, std::size_t(m)) == answer);
    }
    // The server releases its read and write buffers after every record and
    // takes them again for the next: all but the first come from the cache.
    BOOST_TEST(cache::thread_counters().hits - before >= std::size_t(2 * (records - 1)));
    BOOST_TEST(cache::thread_counters().held <= cache::capacity);
}

BOOST_AUTO_TEST_SUITE_END()
