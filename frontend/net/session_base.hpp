// What the frontend server knows of a client session, whatever its transport.
//
// Sessions are created by a listener, registered with the frontend_server
// under their connection id, and run on the frontend's io_context thread.
// The frontend_server pauses and resumes their reading (back-pressure).
// Each is an entry of the server's deadline_queue (its one timer).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/events/events.hpp"
#include "frontend/net/deadline_queue.hpp"

namespace frontend {

class session_base : public std::enable_shared_from_this<session_base>,
                     public deadline_queue::entry {
  public:
    virtual ~session_base() = default;
    virtual void start() = 0;
    // An event the router sent for this session's connection.
    virtual void on_router_event(const events::event& e) = 0;
    // A first delivery encoded once for many sessions (connection::
    // on_encoded_publish), with the received_us of its PUBLISH (0: unknown).
    // Returns false when it was not written (closed, not connected, or a live
    // QoS 0 message dropped because the client does not read fast enough; a
    // retained one, RETAIN set in `packet`, answers the client's SUBSCRIBE and
    // is never dropped that way).
    virtual bool on_encoded_publish(std::string_view packet, std::size_t id_offset,
                                    std::uint16_t packet_id, std::uint8_t qos,
                                    std::uint64_t received_us) = 0;
    // The frontend is stopping: close as a server shutdown.
    virtual void shutdown() = 0;
    // Back-pressure from the router link: stop issuing reads from the client
    // (a read in flight still completes and is handled), and start again.
    // Keep-alive checks wait while paused. Both are idempotent.
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
};

}  // namespace frontend
