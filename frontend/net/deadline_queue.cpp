#include "frontend/net/deadline_queue.hpp"

namespace frontend {

deadline_queue::deadline_queue(boost::asio::io_context& io) : timer_(io) {}

deadline_queue::~deadline_queue() {
    set_.clear();  // leaves every entry unlinked: their destructors touch nothing of ours
}

void deadline_queue::schedule(entry& e, clock::time_point at) {
    if (e.is_linked()) set_.erase(set_.iterator_to(e));
    e.deadline_ = at;
    set_.insert(e);
    if (!expiring_) arm();  // expire() arms once, after its pass
}

void deadline_queue::cancel(entry& e) {
    if (e.is_linked()) set_.erase(set_.iterator_to(e));
    // The timer stays armed: when it fires early it finds nothing due and
    // waits for the next deadline.
}

void deadline_queue::arm() {
    if (set_.empty()) return;
    const auto earliest = set_.begin()->deadline_;
    if (armed_ && armed_for_ <= earliest) return;
    armed_ = true;
    armed_for_ = earliest;
    timer_.expires_at(earliest);
    const auto generation = ++generation_;
    timer_.async_wait(
        [this, alive = std::weak_ptr(alive_), generation](const boost::system::error_code& ec) {
            if (ec || !alive.lock() || generation != generation_) return;
            armed_ = false;
            expire();
        });
}

void deadline_queue::expire() {
    const auto now = clock::now();
    // At most as many calls as entries were due when the pass began: one that
    // schedules itself again for a time already past may run again in this
    // pass, but the pass ends.
    std::size_t due = 0;
    for (auto it = set_.begin(); it != set_.end() && it->deadline_ <= now; ++it) ++due;
    // Entries may schedule or cancel themselves and others, or be destroyed,
    // inside on_deadline(): take the first due one afresh every time.
    struct pass {
        deadline_queue& q;
        explicit pass(deadline_queue& queue) : q(queue) { q.expiring_ = true; }
        ~pass() {  // also if on_deadline() throws: the queue stays armed
            q.expiring_ = false;
            q.arm();
        }
    } guard(*this);
    for (; due > 0 && !set_.empty() && set_.begin()->deadline_ <= now; --due) {
        entry& e = *set_.begin();
        set_.erase(set_.begin());
        e.on_deadline();
    }
}

}  // namespace frontend
