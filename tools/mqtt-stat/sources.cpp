#include "tools/mqtt-stat/sources.hpp"

#include <algorithm>
#include <iostream>

#include "common/stats/publisher.hpp"

namespace mqtt_stat {

void source_set::set_endpoints(const std::vector<std::string>& endpoints, std::string& error) {
    error.clear();
    std::vector<source> next;
    next.reserve(endpoints.size());
    for (const auto& e : endpoints) {
        if (std::any_of(next.begin(), next.end(), [&](const source& s) { return s.endpoint == e; }))
            continue;
        auto it = std::find_if(sources_.begin(), sources_.end(),
                               [&](const source& s) { return s.endpoint == e; });
        if (it != sources_.end()) {
            next.push_back(std::move(*it));
            sources_.erase(it);
            continue;
        }
        source s{e, zmq::socket_t(ctx_, zmq::socket_type::sub), {}, {}, {}};
        s.socket.set(zmq::sockopt::linger, 0);
        s.socket.set(zmq::sockopt::ipv6, 1);
        s.socket.set(zmq::sockopt::subscribe, std::string(stats::topic));
        try {
            s.socket.connect(e);
        } catch (const zmq::error_t& ex) {
            error += (error.empty() ? "" : "; ") + ("cannot connect to " + e + ": " + ex.what());
            continue;
        }
        next.push_back(std::move(s));
    }
    sources_ = std::move(next);  // the ones left out close here
}

void source_set::receive(std::chrono::milliseconds timeout) {
    if (sources_.empty()) return;
    std::vector<zmq::pollitem_t> items;
    for (auto& s : sources_) items.push_back({s.socket.handle(), 0, ZMQ_POLLIN, 0});
    try {
        if (zmq::poll(items.data(), items.size(), timeout) <= 0) return;
    } catch (const zmq::error_t&) {
        return;  // EINTR: a signal; the caller decides whether to stop
    }
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        auto& s = sources_[i];
        for (;;) {
            zmq::message_t topic, body;
            try {
                if (!s.socket.recv(topic, zmq::recv_flags::dontwait)) break;
                if (!topic.more()) continue;
                if (!s.socket.recv(body, zmq::recv_flags::dontwait)) break;
                for (bool more = body.more(); more;) {  // stray frames: skip
                    zmq::message_t extra;
                    if (!s.socket.recv(extra, zmq::recv_flags::dontwait)) break;
                    more = extra.more();
                }
            } catch (const zmq::error_t&) {
                break;
            }
            boost::system::error_code ec;
            auto snap = stats::decode(body.to_string_view(), ec);
            if (!snap) {
                std::cerr << "mqtt-stat: " << s.endpoint
                          << ": undecodable snapshot: " << ec.message() << "\n";
                continue;
            }
            if (!s.latest || s.latest->sequence != snap->sequence ||
                s.latest->incarnation != snap->incarnation) {
                s.previous = std::move(s.latest);
                s.latest = std::move(*snap);
            }
            s.received = clock_type::now();
        }
    }
}

std::vector<stats::snapshot> source_set::latest() const {
    std::vector<stats::snapshot> out;
    for (const auto& s : sources_)
        if (s.latest) out.push_back(*s.latest);
    return out;
}

}  // namespace mqtt_stat
