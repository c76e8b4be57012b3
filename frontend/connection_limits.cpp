// frontend::connection: the limits it applies (README "Limits"): holding a
// CONNECT while its source address is slowed down for failed logins, and the
// topic limits. The rest of the class is in connection.cpp.
#include <utility>

#include "frontend/connection.hpp"

namespace frontend {

bool connection::hold_connect(mqtt::connect& c, clock::time_point now) {
    // A verified client certificate is no guessable secret: never held.
    if (!env_.settings.gate || identity_auth_) return false;
    const auto at = env_.settings.gate->login_allowed_at(id_, now);
    if (at <= now) return false;
    // Nothing is checked or answered until then; the client sees a slow
    // server, other connections see nothing (the io thread is not blocked).
    extras().held_connect = std::make_unique<mqtt::connect>(std::move(c));
    state_deadline_ = at;
    return true;
}

void connection::release_held_connect(clock::time_point now) {
    auto c = std::move(*extras_->held_connect);
    extras_->held_connect.reset();
    last_packet_ = now;  // keep-alive runs from the answer, not from the wait
    handle_connect(std::move(c), now, true);
    process_buffered(now);  // what was pipelined after it
}

void connection::login_failed(clock::time_point now) {
    if (env_.settings.gate) env_.settings.gate->login_failed(id_, now);
}

bool connection::within_topic_limits(std::string_view topic, limits::topic_use use) {
    if (limits::within(env_.settings.topic_limits, topic)) return true;
    if (env_.settings.gate) env_.settings.gate->topic_refused(use);
    return false;
}

void connection::refuse_filters_over_limits(mqtt::subscribe& s) {
    for (auto& r : s.subscriptions)
        if (!within_topic_limits(r.filter, limits::topic_use::subscribe)) r.filter.clear();
}

}  // namespace frontend
