// Turning the configured router endpoints (--routers) into the ZeroMQ
// endpoints to connect to, and watching them change.
//
// A spec `tcp://HOST:PORT` whose HOST is a DNS name becomes `tcp://IP:PORT`
// for every address the name has (IPv4 and IPv6; IPv6 is written
// `tcp://[ADDR]:PORT`, which libzmq accepts on a socket with ZMQ_IPV6 set).
// This is how `docker-compose --scale router=3` presents routers: one name
// with several A records. Numeric hosts, `inproc://`, `ipc://` and anything
// that is not `tcp://HOST:PORT` pass through unchanged.
//
// resolve_endpoints() blocks in getaddrinfo(); safe from any thread.
//
// endpoint_watcher owns one std::thread (started by start(), joined by stop()
// or the destructor) that resolves the specs at start and then every
// `interval`, and calls the callback ON THAT THREAD with the full sorted list
// whenever it differs from the previous one (and once at start, even if
// empty). The callback must not call stop(); a user that lives on another
// thread (router_link: an io_context) posts the list there. stop() wakes the
// thread at once, but a getaddrinfo() already running is waited for (bounded
// by the resolver's own timeouts, /etc/resolv.conf). start() and stop() are
// for the owner's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cluster {

// Resolves every spec; the result is sorted and has no duplicates. A name that
// does not resolve contributes nothing and sets `error` to one line naming it
// (several failures are joined with "; "); the others still resolve. `error`
// is cleared when everything resolved.
std::vector<std::string> resolve_endpoints(const std::vector<std::string>& specs,
                                           std::string& error);

// True when resolving `spec` needs no DNS: inproc://, ipc://, a numeric host,
// or a shape resolve_endpoints passes through unchanged.
bool is_literal_endpoint(std::string_view spec);

class endpoint_watcher {
  public:
    using callback = std::function<void(const std::vector<std::string>& endpoints)>;

    endpoint_watcher(std::vector<std::string> specs, std::chrono::milliseconds interval,
                     callback on_change);
    ~endpoint_watcher();  // stop()
    endpoint_watcher(const endpoint_watcher&) = delete;
    endpoint_watcher& operator=(const endpoint_watcher&) = delete;

    void start();
    // Wakes the thread and joins it; idempotent. No callback runs after it returns.
    void stop();

  private:
    void run();
    // One round: every spec, keeping a name's previous addresses when its
    // lookup failed only for now (EAI_AGAIN: the DNS server did not answer).
    std::vector<std::string> resolve_round();

    const std::vector<std::string> specs_;
    const std::chrono::milliseconds interval_;
    const callback on_change_;
    std::map<std::string, std::vector<std::string>> last_by_spec_;  // watcher thread only
    std::string last_error_;                                        // watcher thread only
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;  // guarded by mutex_
    std::thread thread_;
};

}  // namespace cluster
