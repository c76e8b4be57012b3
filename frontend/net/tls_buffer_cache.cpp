#include "frontend/net/tls_buffer_cache.hpp"

#include <malloc.h>
#include <openssl/crypto.h>

#include <cstdlib>

namespace frontend::tls_buffer_cache {
namespace {

// The buffers a thread holds. Trivially destructible on purpose: OpenSSL may
// still free memory on this thread after C++'s thread_local destructors ran
// (its own thread-exit handlers), and then `closed` sends it to free().
struct cache {
    void* slots[capacity];
    std::size_t held;
    std::size_t hits;
    bool registered;  // the drainer below exists on this thread
    bool closed;      // the thread is ending: cache nothing more
};
constinit thread_local cache local{};

// Empties the thread's cache when the thread ends (made on the first push).
struct drainer {
    ~drainer() {
        local.closed = true;
        while (local.held > 0) std::free(local.slots[--local.held]);
    }
};

std::size_t class_usable = 0;  // malloc_usable_size of a class_size chunk; set by install()

bool in_class(std::size_t n) {
    return n > 16 * 1024 && n <= class_size;
}

// Makes the drainer of this thread, once: on the first record buffer it
// takes or gives (so that it exists before any buffer could be cached, even
// one freed by OpenSSL's own thread-exit handlers).
void register_drainer() {
    if (local.registered) return;
    local.registered = true;
    thread_local drainer d;  // its destructor runs when this thread ends
    (void)d;
}

void* take(std::size_t n, const char*, int) {
    if (n == 0) return nullptr;  // as OpenSSL's own CRYPTO_malloc does
    if (!in_class(n)) return std::malloc(n);
    register_drainer();
    if (local.held > 0) {
        ++local.hits;
        return local.slots[--local.held];
    }
    return std::malloc(class_size);
}

void give(void* p, const char*, int) {
    if (p == nullptr) return;
    if (!local.closed && local.held < capacity && malloc_usable_size(p) == class_usable) {
        register_drainer();
        local.slots[local.held++] = p;
        return;
    }
    std::free(p);
}

void* resize(void* p, std::size_t n, const char* file, int line) {
    if (p == nullptr) return take(n, file, line);
    if (n == 0) {
        give(p, file, line);
        return nullptr;
    }
    return std::realloc(p, n);
}

}  // namespace

bool install() {
    static const bool installed = [] {
        void* probe = std::malloc(class_size);
        if (probe == nullptr) return false;
        class_usable = malloc_usable_size(probe);
        std::free(probe);
        return CRYPTO_set_mem_functions(take, resize, give) == 1;
    }();
    return installed;
}

counters thread_counters() {
    return {local.hits, local.held};
}

}  // namespace frontend::tls_buffer_cache
