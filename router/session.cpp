#include "router/session.hpp"

#include <algorithm>

namespace router {

std::uint16_t session::next_packet_id() {
    // At most 65535 ids can be in flight; the window is far smaller, so this
    // loop ends after a few steps.
    for (;;) {
        last_packet_id = static_cast<std::uint16_t>(last_packet_id + 1);
        if (last_packet_id == 0) continue;
        if (find_inflight(last_packet_id) == inflight.end()) return last_packet_id;
    }
}

util::lazy_deque<inflight_entry>::iterator session::find_inflight(std::uint16_t packet_id) {
    return std::find_if(inflight.begin(), inflight.end(),
                        [packet_id](const inflight_entry& e) { return e.packet_id == packet_id; });
}

namespace {

session::rare_parts& made(std::unique_ptr<session::rare_parts>& rare) {
    if (!rare) rare = std::make_unique<session::rare_parts>();
    return *rare;
}

// Freed once it holds neither part.
void drop_if_empty(std::unique_ptr<session::rare_parts>& rare) {
    if (rare && !rare->will && !rare->floor) rare.reset();
}

}  // namespace

void session::set_will(std::optional<events::will>&& w) {
    if (w) {
        made(rare_).will = std::move(w);
    } else if (rare_) {
        rare_->will.reset();
        drop_if_empty(rare_);
    }
}

std::optional<events::will> session::take_will() {
    if (!rare_ || !rare_->will) return std::nullopt;
    std::optional<events::will> w = std::move(rare_->will);
    rare_->will.reset();
    drop_if_empty(rare_);
    return w;
}

floor_map& session::make_floor() {
    auto& floor = made(rare_).floor;
    if (!floor) floor = std::make_unique<floor_map>();
    return *floor;
}

void session::drop_floor() {
    if (!rare_) return;
    rare_->floor.reset();
    drop_if_empty(rare_);
}

}  // namespace router
