#include "common/cluster/endpoint_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>

namespace cluster {

namespace {

struct tcp_spec {
    std::string host;
    std::string port;
};

// The host and port of `tcp://HOST:PORT` when HOST is a DNS name; nothing for
// every shape that passes through unchanged.
std::optional<tcp_spec> name_to_resolve(std::string_view spec) {
    constexpr std::string_view scheme = "tcp://";
    if (!spec.starts_with(scheme)) return std::nullopt;  // inproc://, ipc://, ...
    const auto rest = spec.substr(scheme.size());
    if (rest.starts_with('[')) return std::nullopt;  // [IPv6]:PORT
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size())
        return std::nullopt;
    tcp_spec out{std::string(rest.substr(0, colon)), std::string(rest.substr(colon + 1))};
    // ':' (unbracketed IPv6) or ';' (libzmq's source-address form): not ours.
    if (out.host.find_first_of(":;") != std::string::npos || out.host == "*") return std::nullopt;
    in_addr v4{};
    if (inet_pton(AF_INET, out.host.c_str(), &v4) == 1) return std::nullopt;  // numeric
    return out;
}

// Appends the endpoints `spec` stands for to `out`; returns 0 or the
// getaddrinfo() error (then `error` says which name failed and why).
int resolve_one(const std::string& spec, std::vector<std::string>& out, std::string& error) {
    const auto name = name_to_resolve(spec);
    if (!name) {
        out.push_back(spec);
        return 0;
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;  // A and AAAA records
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(name->host.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
        error = "cannot resolve '" + name->host + "' in " + spec + ": " + gai_strerror(rc);
        return rc;
    }
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        char host[NI_MAXHOST];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, nullptr, 0,
                        NI_NUMERICHOST) != 0)
            continue;
        if (ai->ai_family == AF_INET6)
            out.push_back("tcp://[" + std::string(host) + "]:" + name->port);
        else
            out.push_back("tcp://" + std::string(host) + ":" + name->port);
    }
    freeaddrinfo(found);
    return 0;
}

void append_error(std::string& all, const std::string& one) {
    if (!all.empty()) all += "; ";
    all += one;
}

void sort_unique(std::vector<std::string>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

bool is_literal_endpoint(std::string_view spec) {
    return !name_to_resolve(spec).has_value();
}

std::vector<std::string> resolve_endpoints(const std::vector<std::string>& specs,
                                           std::string& error) {
    error.clear();
    std::vector<std::string> out;
    for (const auto& spec : specs) {
        std::string why;
        if (resolve_one(spec, out, why) != 0) append_error(error, why);
    }
    sort_unique(out);
    return out;
}

// ---- endpoint_watcher -------------------------------------------------------

endpoint_watcher::endpoint_watcher(std::vector<std::string> specs,
                                   std::chrono::milliseconds interval, callback on_change)
    : specs_(std::move(specs)), interval_(interval), on_change_(std::move(on_change)) {}

endpoint_watcher::~endpoint_watcher() {
    stop();
}

void endpoint_watcher::start() {
    if (thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void endpoint_watcher::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::vector<std::string> endpoint_watcher::resolve_round() {
    std::vector<std::string> all;
    std::string errors;
    for (const auto& spec : specs_) {
        std::vector<std::string> mine;
        std::string why;
        const int rc = resolve_one(spec, mine, why);
        if (rc == EAI_AGAIN) {
            // The DNS server did not answer: a transient failure must not
            // retire every router behind the name.
            mine = last_by_spec_[spec];
            if (!mine.empty()) why += " (keeping its last addresses)";
        }
        if (rc != 0) append_error(errors, why);
        last_by_spec_[spec] = mine;
        all.insert(all.end(), mine.begin(), mine.end());
    }
    if (errors != last_error_) {
        if (!errors.empty())
            spdlog::warn("router discovery: {}", errors);
        else
            spdlog::info("router discovery: every name resolves again");
        last_error_ = errors;
    }
    sort_unique(all);
    return all;
}

void endpoint_watcher::run() {
    std::optional<std::vector<std::string>> last;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        auto endpoints = resolve_round();
        lock.lock();
        if (stopping_) break;
        if (!last || *last != endpoints) {
            last = endpoints;
            // Unlocked, so that stop() can be called (and wait) meanwhile.
            lock.unlock();
            on_change_(endpoints);
            lock.lock();
        }
        wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
}

}  // namespace cluster
