#include "tools/mqtt-stat/prometheus_mode.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <functional>
#include <iostream>
#include <optional>
#include <zmq.hpp>

#include "common/cluster/endpoint_resolver.hpp"
#include "common/stats/prometheus.hpp"
#include "tools/mqtt-stat/http_server.hpp"
#include "tools/mqtt-stat/sources.hpp"

namespace mqtt_stat {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::chrono::milliseconds poll_period{100};

constexpr const char* index_html =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>mqtt-stat</title></head>\n"
    "<body><h1>mqtt-stat</h1>\n"
    "<p>Statistics of the MQTT routers and frontends this mqtt-stat reads, for Prometheus: "
    "<a href=\"/metrics\">/metrics</a></p>\n"
    "</body></html>\n";

std::string metrics(source_set& sources) {
    sources.receive(std::chrono::milliseconds(0));  // whatever arrived since the last tick
    const auto now = clock_type::now();
    std::vector<stats::prometheus::target> targets;
    targets.reserve(sources.all().size());
    for (const auto& s : sources.all()) {
        const auto age =
            s.latest ? std::chrono::duration_cast<std::chrono::milliseconds>(now - s.received)
                     : std::chrono::milliseconds(0);
        targets.push_back({s.endpoint, s.latest, age});
    }
    return stats::prometheus::render(targets);
}

void warn(const std::string& line) {
    if (!line.empty()) std::cerr << "mqtt-stat: " << line << "\n";
}

}  // namespace

int run_prometheus(const prometheus_options& o) {
    // endpoint_watcher logs through spdlog: to stderr, like everything else here.
    spdlog::set_default_logger(spdlog::stderr_color_mt("mqtt-stat"));

    asio::io_context io(1);
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    const auto listen_on = resolver.resolve(o.host, o.port, tcp::resolver::numeric_service, ec);
    if (ec || listen_on.empty()) {
        warn("--prometheus: cannot resolve " + o.host + ": " + ec.message());
        return 2;
    }

    zmq::context_t ctx(1);
    source_set sources(ctx);
    http_server server(
        io, {{"/metrics",
              {std::string(stats::prometheus::content_type), [&] { return metrics(sources); }}},
             {"/", {"text/html; charset=utf-8", [] { return std::string(index_html); }}}});
    std::vector<tcp::endpoint> tried;
    for (const auto& entry : listen_on) {
        if (std::find(tried.begin(), tried.end(), entry.endpoint()) != tried.end()) continue;
        tried.push_back(entry.endpoint());
        std::string error;
        if (!server.listen(entry.endpoint(), error)) warn(error);  // another address may do
    }
    const auto listening = server.local_endpoints();
    if (listening.empty()) return 1;

    // The endpoints: resolved now, and again every discovery_interval when
    // some are names (a name that does not resolve yet may later).
    std::string resolve_error, connect_error;
    sources.set_endpoints(cluster::resolve_endpoints(o.specs, resolve_error), connect_error);
    warn(resolve_error);
    warn(connect_error);
    std::optional<cluster::endpoint_watcher> watcher;
    if (!std::all_of(o.specs.begin(), o.specs.end(), cluster::is_literal_endpoint)) {
        watcher.emplace(o.specs, o.discovery_interval,
                        [&io, &sources](const std::vector<std::string>& endpoints) {
                            asio::post(io, [&sources, endpoints] {
                                std::string error;
                                sources.set_endpoints(endpoints, error);
                                warn(error);
                            });
                        });
        watcher->start();
    }

    asio::steady_timer tick(io);
    std::function<void()> poll = [&] {
        sources.receive(std::chrono::milliseconds(0));
        tick.expires_after(poll_period);
        tick.async_wait([&](const boost::system::error_code& e) {
            if (!e) poll();
        });
    };
    poll();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
        server.stop();
        io.stop();
    });

    for (const auto& e : listening) {
        const std::string host =
            e.address().is_v6() ? "[" + e.address().to_string() + "]" : e.address().to_string();
        std::cerr << "mqtt-stat: serving http://" << host << ":" << e.port() << "/metrics for "
                  << sources.all().size() << " stats endpoint(s)\n";
    }
    io.run();
    if (watcher) watcher->stop();
    return 0;
}

}  // namespace mqtt_stat
