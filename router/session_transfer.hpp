// Converting a session to and from its wire form (events::session_state), for
// handing it to another router: subscriptions, the in-flight window (in send
// order, with each entry's state), the queue, the inbound QoS 2 ids awaiting
// PUBREL and the packet-id counter. The connection and the will are not
// moved: a session moves only while its client is offline (the will belongs
// to a connection, and fires or is discarded when that connection ends).
//
// Pure functions; used by router_core on the router thread.
#pragma once

#include "common/events/events.hpp"
#include "router/message.hpp"
#include "router/session.hpp"

namespace router {

events::stored_message to_stored(const message& m);
message_ptr from_stored(events::stored_message&& m);

// Fills the session fields of `out` (request, sender and found are left as they are).
void export_session(const session& s, events::session_state& out);

// Replaces s's subscriptions, window, queue and QoS 2 state with `in`'s. The
// caller enters the subscriptions in the subscription index.
void import_session(events::session_state&& in, session& s);

}  // namespace router
