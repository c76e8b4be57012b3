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

}  // namespace router
