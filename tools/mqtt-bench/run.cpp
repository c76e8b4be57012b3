#include "tools/mqtt-bench/run.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cmath>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include "tools/mqtt-bench/clock.hpp"
#include "tools/mqtt-bench/idle_client.hpp"
#include "tools/mqtt-bench/worker.hpp"

namespace bench {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::int64_t ms = 1'000'000;

double cpu_seconds(const timeval& tv) {
    return tv.tv_sec + tv.tv_usec / 1e6;
}

std::int64_t seconds_ns(double s) {
    return std::llround(s * 1e9);
}

// Polls `done` every few milliseconds until it holds, the deadline passes or
// `stop` is set. Returns false when stopped.
template <class Pred>
bool wait_until(std::int64_t deadline_ns, const std::atomic<bool>& stop, Pred done) {
    while (!stop.load()) {
        if (done() || now_ns() >= deadline_ns) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

std::vector<tcp::endpoint> resolve(const config::listener_url& url) {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec || results.empty())
        throw std::runtime_error("cannot resolve '" + url.host + "': " + ec.message());
    std::vector<tcp::endpoint> out;
    for (const auto& r : results) out.push_back(r.endpoint());
    return out;
}

struct topics {
    std::string publish(const bench_options& o, std::uint32_t i) const {
        switch (o.kind) {
            case scenario::p2p:
                return o.topic_prefix + "p2p/" + std::to_string(i);
            case scenario::fanout:
                return o.topic_prefix + "fanout";
            default:
                return o.topic_prefix + "fanin/" + std::to_string(i);
        }
    }
    std::string filter(const bench_options& o, std::uint32_t i) const {
        switch (o.kind) {
            case scenario::p2p:
                return o.topic_prefix + "p2p/" + std::to_string(i);
            case scenario::fanout:
                return o.topic_prefix + "fanout";
            default:
                return o.topic_prefix + "fanin/+";
        }
    }
};

}  // namespace

run_result run_bench(const bench_options& o, const std::atomic<bool>& stop) {
    run_result r;
    rusage usage_before{};
    getrusage(RUSAGE_SELF, &usage_before);
    const std::int64_t run_start = now_ns();

    client_settings settings;
    settings.url = o.url;
    settings.endpoints = resolve(o.url);
    std::optional<asio::ssl::context> tls;
    if (o.url.uses_tls()) {
        try {
            tls.emplace(make_tls_context(o.cafile, o.insecure));
        } catch (const std::exception& e) {
            throw std::runtime_error("--cafile '" + o.cafile + "': " + e.what());
        }
        settings.tls = &*tls;
    }
    settings.verify_host = !o.insecure;
    settings.username = o.username;
    settings.password = o.password;
    settings.clean_session = o.clean_session;
    settings.keep_alive_s = static_cast<std::uint16_t>(o.keepalive_s);
    settings.connect_timeout = std::chrono::nanoseconds(seconds_ns(o.connect_timeout_s));
    settings.max_packet_size = o.payload + 64 * 1024;

    publish_plan plan;
    plan.qos = o.qos;
    plan.payload = o.payload;
    plan.closed_loop = o.closed_loop;
    plan.rate = o.rate;
    plan.inflight = o.inflight;
    plan.run_tag = o.run_tag;

    run_shared shared;
    const bool storm = o.kind == scenario::storm;
    r.planned_clients = storm ? o.connections : std::uint64_t{o.publishers} + o.subscribers;
    r.threads = static_cast<unsigned>(std::min<std::uint64_t>(o.threads, r.planned_clients));
    std::vector<std::unique_ptr<worker>> workers;
    for (unsigned i = 0; i < r.threads; ++i) workers.push_back(std::make_unique<worker>());

    // Client k (subscribers first) starts k / connect-rate after the base
    // time, on worker k mod threads (fan-in: see subscribers_apart below).
    const double spacing_ns = 1e9 / o.connect_rate;
    std::uint64_t k = 0;
    const topics names;
    std::mt19937_64 rng(o.seed);
    const double interval_ns = 1e9 / o.rate;
    for (std::uint64_t i = 0; i < r.planned_clients && storm; ++i, ++k) {
        worker& w = *workers[k % workers.size()];
        w.add<idle_client>(std::llround(k * spacing_ns), settings,
                           o.client_id_prefix + "conn-" + std::to_string(i), w.stats(), shared);
    }
    // A fan-in's subscribers read every publisher's messages. On a thread
    // shared with hundreds of closed-loop publishers a subscriber reads only
    // when its turn comes round, and the tool, not the broker, sets what it
    // receives (it swung between about 100 and 10,000 msg/s from run to run).
    // With two threads or more they get the first one to themselves.
    const bool subscribers_apart =
        o.kind == scenario::fanin && workers.size() >= 2 && o.subscribers < o.publishers;
    if (!storm) {
        for (std::uint32_t i = 0; i < o.subscribers; ++i, ++k) {
            worker& w = *workers[subscribers_apart ? 0 : k % workers.size()];
            std::optional<std::uint32_t> only;
            if (o.kind == scenario::p2p) only = i;
            w.add<subscriber>(std::llround(k * spacing_ns), settings,
                              o.client_id_prefix + "sub-" + std::to_string(i), w.stats(), shared,
                              names.filter(o, i), o.qos, o.run_tag, o.publishers, only);
        }
        for (std::uint32_t i = 0; i < o.publishers; ++i, ++k) {
            worker& w =
                *workers[subscribers_apart ? 1 + i % (workers.size() - 1) : k % workers.size()];
            const auto phase = static_cast<std::int64_t>(
                std::uniform_real_distribution<double>(0, interval_ns)(rng));
            w.add<publisher>(std::llround(k * spacing_ns), settings,
                             o.client_id_prefix + "pub-" + std::to_string(i), w.stats(), shared,
                             plan, i, names.publish(o, i), phase);
        }
    }

    // Connect phase.
    for (auto& w : workers) w->run();
    const std::int64_t base = now_ns() + 5 * ms;
    for (auto& w : workers) w->connect(base);
    const std::int64_t connect_deadline = base +
                                          std::llround((r.planned_clients - 1) * spacing_ns) +
                                          seconds_ns(o.connect_timeout_s) + 500 * ms;
    wait_until(connect_deadline, stop, [&] { return shared.settled.load() >= r.planned_clients; });
    r.connect_phase_s = (now_ns() - base) / 1e9;

    std::vector<std::vector<bool>> ready_subs(workers.size());
    if (!stop.load() && shared.ready.load() > 0) {
        if (storm) {
            const std::int64_t start = now_ns();
            wait_until(start + seconds_ns(o.duration_s), stop, [] { return false; });
            r.measured_s = (now_ns() - start) / 1e9;
        } else {
            // Fan-out of each publisher: the ready subscribers expecting it.
            std::vector<unsigned> fanout(o.publishers, 0);
            for (std::size_t wi = 0; wi < workers.size(); ++wi) {
                for (auto* s : workers[wi]->subscribers()) {
                    const bool ready = s->ready();
                    ready_subs[wi].push_back(ready);
                    if (!ready) continue;
                    ++r.ready_subscribers;
                    for (std::uint32_t p = 0; p < o.publishers; ++p)
                        if (s->expects(p)) ++fanout[p];
                }
                for (auto* p : workers[wi]->publishers())
                    if (p->ready()) ++r.ready_publishers;
            }
            const std::int64_t start = now_ns() + 20 * ms;
            const std::int64_t window_start = start + seconds_ns(o.warmup_s);
            const std::int64_t window_end = window_start + seconds_ns(o.duration_s);
            shared.window_start_ns.store(window_start);
            shared.window_end_ns.store(window_end);
            for (auto& w : workers) w->begin_publishing(start, window_end, fanout);

            wait_until(window_end, stop, [] { return false; });
            r.measured_s =
                std::max<std::int64_t>(0, std::min(now_ns(), window_end) - window_start) / 1e9;
            // Drain: a few ms for the last sends to leave, then until every
            // ack and delivery is in, at most --drain seconds.
            wait_until(window_end + 20 * ms, stop, [] { return false; });
            wait_until(window_end + seconds_ns(o.drain_s), stop, [&] {
                return shared.outstanding.load() <= 0 &&
                       shared.unique_deliveries.load() >= shared.expected_deliveries.load();
            });
        }
    }
    r.interrupted = stop.load();

    for (auto& w : workers) w->stop(std::chrono::milliseconds(1000));
    for (auto& w : workers) w->join();

    // Accounting, with every thread joined.
    std::vector<std::uint64_t> acked(o.publishers, 0);
    for (auto& w : workers) {
        r.totals.merge(w->stats());
        for (auto* p : w->publishers()) acked[p->index()] = p->acknowledged();
    }
    for (std::size_t wi = 0; wi < workers.size(); ++wi) {
        const auto& subs = workers[wi]->subscribers();
        for (std::size_t si = 0; si < subs.size() && si < ready_subs[wi].size(); ++si) {
            if (!ready_subs[wi][si]) continue;
            const auto& trackers = subs[si]->trackers();
            for (std::uint32_t p = 0; p < o.publishers; ++p) {
                if (!subs[si]->expects(p)) continue;
                auto it = trackers.find(p);
                const std::uint64_t unique = it == trackers.end() ? 0 : it->second.unique();
                r.expected += acked[p];
                r.unique += unique;
                if (it != trackers.end())
                    r.lost += it->second.lost(acked[p]);
                else
                    r.lost += acked[p];
                if (unique > acked[p]) r.unexpected_extra += unique - acked[p];
            }
        }
    }
    if (storm) r.held = r.totals.connected - r.totals.connections_lost;

    rusage usage_after{};
    getrusage(RUSAGE_SELF, &usage_after);
    r.cpu_user_s = cpu_seconds(usage_after.ru_utime) - cpu_seconds(usage_before.ru_utime);
    r.cpu_sys_s = cpu_seconds(usage_after.ru_stime) - cpu_seconds(usage_before.ru_stime);
    r.elapsed_s = (now_ns() - run_start) / 1e9;

    if (r.interrupted)
        r.exit_code = 130;
    else if (r.totals.connect_failures > 0 || r.totals.connections_lost > 0 ||
             r.totals.connected == 0)
        r.exit_code = 1;
    return r;
}

}  // namespace bench
