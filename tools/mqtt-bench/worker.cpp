#include "tools/mqtt-bench/worker.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "tools/mqtt-bench/clock.hpp"

namespace bench {

namespace asio = boost::asio;

worker::worker() : guard_(asio::make_work_guard(ioc_)), start_timer_(ioc_), stop_timer_(ioc_) {}

worker::~worker() {
    join();
    entries_.clear();  // sockets before the io_context
}

void worker::run() {
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const entry& a, const entry& b) { return a.offset_ns < b.offset_ns; });
    thread_ = std::thread([this] { ioc_.run(); });
}

void worker::connect(std::int64_t base_ns) {
    asio::post(ioc_, [this, base_ns] {
        base_ns_ = base_ns;
        start_due();
    });
}

void worker::start_due() {
    const std::int64_t now = now_ns();
    while (next_start_ < entries_.size() && base_ns_ + entries_[next_start_].offset_ns <= now)
        entries_[next_start_++].c->start();
    if (next_start_ == entries_.size()) return;
    start_timer_.expires_at(to_time_point(base_ns_ + entries_[next_start_].offset_ns));
    start_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) start_due();
    });
}

void worker::begin_publishing(std::int64_t start_ns, std::int64_t end_ns,
                              std::vector<unsigned> fanout) {
    asio::post(ioc_, [this, start_ns, end_ns, fanout = std::move(fanout)] {
        for (auto* p : publishers_) p->begin(start_ns, end_ns, fanout[p->index()]);
    });
}

void worker::stop(std::chrono::milliseconds grace) {
    asio::post(ioc_, [this, grace] {
        next_start_ = entries_.size();  // clients not started yet never will be
        start_timer_.cancel();
        for (auto* p : publishers_) p->stop_sending();
        for (auto& e : entries_) e.c->shutdown();
        guard_.reset();
        wait_closed(now_ns() + std::chrono::nanoseconds(grace).count());
    });
}

// Ends the thread once every client has closed, or at the deadline: whatever
// is still pending then (a DISCONNECT to a stalled server) is cut off.
void worker::wait_closed(std::int64_t deadline_ns) {
    const bool all_closed = std::all_of(entries_.begin(), entries_.end(),
                                        [](const entry& e) { return e.c->finished(); });
    if (all_closed || now_ns() >= deadline_ns) {
        ioc_.stop();
        return;
    }
    stop_timer_.expires_after(std::chrono::milliseconds(10));
    stop_timer_.async_wait([this, deadline_ns](boost::system::error_code ec) {
        if (!ec) wait_closed(deadline_ns);
    });
}

void worker::join() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace bench
