// Admission of client connections at accept, before any TLS byte is read:
// the connections this frontend process holds (--max-connections), those
// from one source address (--max-connections-per-address, keyed by
// address_key), and the rate of new ones (--connection-rate, a token bucket
// with a burst of one second's worth).
//
// An admitted connection gets an admission_ticket, which its holder keeps
// (in the session, for frontend_server: session_base.hpp) and hands back
// to release(): the limiter itself keeps nothing per connection, only a
// count per address.
//
// The rate is applied by pausing the accept loop (next_accept()): waiting
// connections stay in the kernel's listen queue, which costs nothing, and
// are taken in order when tokens come back; a client is never refused for
// the rate. The counts are applied to each accepted socket (admit()): over
// either, the caller closes it at once. Only admitted connections take a
// token (a refusal is cheap and must not slow the others down).
//
// Pure (the caller passes the time), not thread-safe: owned by
// frontend_limits on the frontend's io thread; tests drive it with fake time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/events/events.hpp"
#include "frontend/limits/token_bucket.hpp"

namespace frontend::limits {

struct connection_limits {
    std::size_t max_connections = 0;  // in this process; 0: no limit
    std::size_t max_per_address = 0;  // per address key; 0: no limit
    std::uint32_t rate = 0;           // new connections per second, burst = rate; 0: none
};

enum class admission {
    admitted,
    over_total,    // --max-connections
    over_address,  // --max-connections-per-address
};

// What an admitted connection holds until it ends: the key of the per-address
// count it is in (an empty string for an exempt address). Empty once released.
class admission_ticket {
  public:
    bool held() const { return key_ != nullptr; }
    // The address key (empty: exempt), or nullptr if not held.
    const std::string* key() const { return key_; }

  private:
    friend class connection_limiter;
    const std::string* key_ = nullptr;
};

class connection_limiter {
  public:
    using clock = std::chrono::steady_clock;

    connection_limiter(connection_limits limits, clock::time_point now);

    // When the accept loop may take the next connection (<= now: at once).
    clock::time_point next_accept(clock::time_point now) { return bucket_.available_at(now); }

    // A connection accepted from `key` (address_key of its source; empty: an
    // exempt address, counted in the total only). Admitted: `ticket` is held,
    // the connection counted until release(ticket), and one token of the
    // rate taken. Otherwise `ticket` is left as it was.
    admission admit(std::string key, clock::time_point now, admission_ticket& ticket);
    // The connection ended: uncounted, and `ticket` emptied (an empty one:
    // nothing, so releasing twice is harmless).
    void release(admission_ticket& ticket);

    std::size_t connections() const { return connections_; }
    std::size_t connections_from(std::string_view key) const;
    // Address keys with at least one connection (for tests: entries go when their count does).
    std::size_t addresses() const { return per_address_.size(); }

  private:
    connection_limits limits_;
    token_bucket bucket_;
    std::size_t connections_ = 0;  // admitted, not yet released
    // Connections per address key; tickets point at the keys (node addresses
    // are stable while an entry counts a connection).
    std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace frontend::limits
