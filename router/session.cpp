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

void session::set_will(std::optional<events::will>&& w) {
    if (w) {
        if (!rare_) rare_ = std::make_unique<rare_parts>();
        rare_->will = std::move(w);
    } else if (rare_) {
        rare_->will.reset();
        drop_rare_if_empty();
    }
}

std::optional<events::will> session::take_will() {
    if (!rare_ || !rare_->will) return std::nullopt;
    std::optional<events::will> w = std::move(rare_->will);
    rare_->will.reset();
    drop_rare_if_empty();
    return w;
}

floor_map& session::make_floor() {
    if (!rare_) rare_ = std::make_unique<rare_parts>();
    if (!rare_->floor) rare_->floor = std::make_unique<floor_map>();
    return *rare_->floor;
}

void session::drop_floor() {
    if (!rare_) return;
    rare_->floor.reset();
    drop_rare_if_empty();
}

}  // namespace router
