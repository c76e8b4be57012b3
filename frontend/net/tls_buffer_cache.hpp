// A small cache of OpenSSL's record buffers, installed as OpenSSL's allocator
// (CRYPTO_set_mem_functions) before OpenSSL allocates anything.
//
// Why: the TLS context sets SSL_MODE_RELEASE_BUFFERS, so an idle connection
// holds no record buffers (about 33 KiB otherwise). The price is that every
// record read or written takes a 16.5 KiB buffer from malloc and gives it
// back: large chunks, which glibc serves from its bins (splitting, merging,
// consolidating the fastbins) rather than from its per-thread cache. That was
// about 2,400 instructions per QoS 1 message (callgrind, p2p over TLS: 58.6k
// per message with the mode, 55.8k without it). This cache keeps up to
// `capacity` such buffers per thread and hands them out again, so an active
// connection pays a push and a pop, and idle connections still hold nothing:
// the cache is bounded per thread, not per connection.
//
// Which allocations: requests of more than 16 KiB and at most 17 KiB (the
// record buffers: 16,492 bytes to write, 16,712 to read with read-ahead, on
// OpenSSL 3.0) are served as 17 KiB chunks; a freed chunk of exactly that
// usable size goes back to the calling thread's cache while it has room.
// Everything else goes to malloc/realloc/free unchanged. Every cached chunk is
// an ordinary malloc chunk, so realloc and free work on it as on any other.
//
// Thread-safe: each thread has its own cache (thread_local), emptied when the
// thread ends; a buffer freed on another thread than it was taken on simply
// joins that thread's cache.
#pragma once

#include <cstddef>

namespace frontend::tls_buffer_cache {

inline constexpr std::size_t class_size = 17 * 1024;
inline constexpr std::size_t capacity = 8;

// Installs the allocator. Must run before OpenSSL allocates (first thing in
// main); false when OpenSSL had allocated already (then nothing changes).
// Idempotent: later calls return what the first one did.
bool install();

// For tests and stats: how many allocations the calling thread's cache
// served, and how many buffers it holds now.
struct counters {
    std::size_t hits = 0;
    std::size_t held = 0;
};
counters thread_counters();

}  // namespace frontend::tls_buffer_cache
