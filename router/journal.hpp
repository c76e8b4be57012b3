// What the router must write to its store (store/db.hpp) after each change
// of its durable state: persistent sessions (clean_session=0) with their
// subscriptions, outbound entries and inbound QoS 2 ids, the messages those
// entries refer to (each stored once, counted by reference), and retained
// messages ($SYS ones excepted: they are rebuilt every interval).
//
// router_core calls it at every change; it only fills a store::batch, which
// the router loop commits (and syncs, per --sync) before it sends what the
// changes caused: acknowledgements follow durability. Without a store
// (enabled() false) every call is a no-op, so the router runs in memory.
//
// Outbound entries are keyed by a per-session sequence number in send order
// (session::next_seq); queued_entry/inflight_entry keep theirs.
//
// Owned by router_core; router thread only.
#pragma once

#include <cstdint>
#include <string>

#include "router/message.hpp"
#include "router/session.hpp"
#include "store/batch.hpp"
#include "store/records.hpp"

namespace router {

class journal {
  public:
    void enable() { enabled_ = true; }
    bool enabled() const { return enabled_; }

    // The session's own record (subscriptions); for a new session or a
    // changed subscription set. Clean sessions are never written.
    void put_session(const session& s);
    // The session and everything of it (when it ends or moves away).
    void erase_session(const session& s);
    // The whole session again, entries renumbered from 1 in their order
    // (after it arrived from another router, or was merged with one).
    void rewrite_session(session& s);

    // An outbound entry: added (refers to its message), moved to another
    // state, or removed.
    void add_queued(session& s, queued_entry& q);
    void add_inflight(session& s, inflight_entry& f);
    void sent_from_queue(const session& s, const inflight_entry& f);  // same seq, now in flight
    void pubrec_received(const session& s, const inflight_entry& f, const message_ptr& released);
    void remove_inflight(const session& s, const inflight_entry& f);

    void put_inbound(const session& s, std::uint16_t packet_id);
    void erase_inbound(const session& s, std::uint16_t packet_id);

    // A retained message that replaced the topic's entry; `keep_tombstone`:
    // a deletion is kept as a marker (clusters) rather than erased.
    void retained_changed(const message& m, bool keep_tombstone);

    void put_meta(std::string_view name, std::uint64_t value);

    // The outbox towards a peer router (forwarding.cpp): an entry refers to
    // its message like an outbound entry does.
    void add_forward(const std::string& peer, const message_ptr& m);
    void remove_forward(const std::string& peer, const message_ptr& m);
    // The highest reliable stamp committed from an origin (meta hw/<origin>).
    void put_high_water(const std::string& origin, std::uint64_t stamp);

    // What to commit; the journal starts a new batch.
    store::batch take();
    bool empty() const { return batch_.empty(); }

    // After a load: messages get their ids back, and new ids go on from there.
    void adopt(const message& m, std::uint64_t id);
    // For router_core::restore's repairs of what a store held.
    store::batch& raw() { return batch_; }
    void set_next_message_id(std::uint64_t id) { next_message_id_ = id; }

  private:
    bool tracks(const session& s) const { return enabled_ && !s.clean; }
    std::uint64_t ref(const message_ptr& m);  // the message's id, written on first use
    void unref(const message_ptr& m);
    store::outbound_record record_of(const inflight_entry& f) const;

    bool enabled_ = false;
    store::batch batch_;
    std::uint64_t next_message_id_ = 1;
};

}  // namespace router
