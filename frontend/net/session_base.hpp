// What the frontend server knows of a client session, whatever its transport.
//
// Sessions are created by a listener, registered with the frontend_server
// under their connection id, and run on the frontend's io_context thread.
// The frontend_server pauses and resumes their reading (back-pressure).
// Each is an entry of the server's deadline_queue (its one timer).
//
// Ownership: an intrusive, non-atomic reference count (session_ptr), held by
// the session's pending handlers and by whoever calls into it; one thread
// touches a session, so no atomics, and a handler holds one pointer (8
// bytes: the read wait every idle connection has stays in a smaller block).
// While registered, a session is also in the server's index by connection
// id, through the link and fields below that only frontend_server touches
// (frontend_server.cpp): the index does not own it, and a session leaves it
// before it is destroyed.
#pragma once

#include <boost/intrusive_ptr.hpp>
#include <cstdint>
#include <string_view>

#include "common/events/events.hpp"
#include "common/util/intrusive_index.hpp"
#include "frontend/limits/connection_limiter.hpp"
#include "frontend/net/deadline_queue.hpp"

namespace frontend {

class frontend_server;

class session_base : public deadline_queue::entry {
  public:
    virtual ~session_base() = default;
    virtual void start() = 0;
    virtual events::conn_id conn_id() const = 0;
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

    static constexpr std::uint32_t no_router = static_cast<std::uint32_t>(-1);

  protected:
    session_base() = default;
    session_base(const session_base&) = delete;
    session_base& operator=(const session_base&) = delete;
    // Still in the server's index (only if it was never unregistered).
    bool registered() const { return server_link_.is_linked(); }

  private:
    friend class frontend_server;
    friend void intrusive_ptr_add_ref(session_base* s) noexcept { ++s->refs_; }
    friend void intrusive_ptr_release(session_base* s) noexcept {
        if (--s->refs_ == 0) delete s;
    }

    // frontend_server's, while registered: (ordered so that the refcount
    // fills the last field's padding)
    util::index_hook server_link_;      // in frontend_server::sessions_
    std::uint64_t incarnation_ = 0;     // of the router that accepted it (0: no connack yet)
    limits::admission_ticket ticket_;   // its admission at accept (the limits count it)
    std::uint32_t router_ = no_router;  // link slot of the router that owns its MQTT session
    std::uint32_t refs_ : 31 = 0;
    // Its last QoS 1/2 delivery had waited in the router (a queue, a retained
    // message, a resend): the router holds more for it, so its PUBACKs and
    // PUBCOMPs must not wait for company (router_link::send).
    std::uint32_t backlogged_ : 1 = 0;
};

using session_ptr = boost::intrusive_ptr<session_base>;

}  // namespace frontend
