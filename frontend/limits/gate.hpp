// What a frontend::connection asks of, and tells, the limits its frontend
// shares among all its connections (connection_settings::gate): the
// failed-login slowdown of its source address, and the topic-limit refusals
// (for the counters). frontend_limits implements it; connection tests use
// their own.
//
// Called from the frontend's io thread only (each connection's strand is
// that thread).
#pragma once

#include <chrono>

#include "common/events/events.hpp"
#include "frontend/limits/topic_limits.hpp"

namespace frontend::limits {

class gate {
  public:
    using clock = std::chrono::steady_clock;

    virtual ~gate() = default;
    // When the CONNECT of connection `conn` may be authenticated (<= now: at
    // once). A later time holds the CONNECT until then (counted).
    virtual clock::time_point login_allowed_at(events::conn_id conn, clock::time_point now) = 0;
    // The CONNECT of `conn` failed authentication (CONNACK 4 or 5).
    virtual void login_failed(events::conn_id conn, clock::time_point now) = 0;
    // A topic name or filter over the topic limits was refused.
    virtual void topic_refused(topic_use use) = 0;
};

}  // namespace frontend::limits
