// The router's sessions: it owns every session and finds one by client id,
// by subscriber id (what the subscription index names) and by live
// connection (frontend routing id + conn id).
//
// The three indexes are intrusive (util::intrusive_index): each session
// carries its links, so an idle connection costs the router one allocation
// (the session; plus its client id when that is longer than the string's
// inline buffer) instead of one more per map.
//
// A connection whose session was taken over (detach) stays known, mapped to
// no session, until its frontend reports it closed (disconnect): its late
// events are then ignored, not taken for a new client's.
//
// Owned by router_core on the router thread; no locking.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_set>

#include "common/util/intrusive_index.hpp"
#include "router/session.hpp"

namespace router {

class session_table {
  public:
    session_table() = default;
    ~session_table();
    session_table(const session_table&) = delete;
    session_table& operator=(const session_table&) = delete;

    session* find(std::string_view client_id) { return by_client_id_.find(client_id); }
    const session* find(std::string_view client_id) const { return by_client_id_.find(client_id); }
    session* find(subscriber_id id) { return by_id_.find(id); }
    // The session connected through `c`, or nullptr (unknown, or detached).
    session* find(const conn_ref& c) { return by_conn_.find(c); }
    // `c` is live or detached: its frontend has not reported its end yet.
    bool knows(const conn_ref& c) const;

    // Takes a new, unconnected session whose client_id and id no indexed
    // session has, and indexes it (std::logic_error otherwise: callers check).
    session& add(std::unique_ptr<session> s);
    // Removes and destroys `s`. If still connected, its connection is
    // forgotten (it is not detached).
    void remove(session& s);

    // `s` (offline) is now connected through `c` (a connection not known;
    // std::logic_error otherwise: callers check).
    void connect(session& s, const conn_ref& c);
    // `s` loses its connection (takeover, leave): the connection stays
    // known, mapped to no session, until disconnect(). `s` is offline.
    void detach(session& s);
    // The frontend reported `c` closed: the session it was connected to, now
    // offline, or nullptr (a detached connection, now forgotten, or unknown).
    session* disconnect(const conn_ref& c);

    std::size_t size() const { return by_client_id_.size(); }
    // Live and detached connections.
    std::size_t connections() const { return by_conn_.size() + detached_.size(); }

    // Every session (`f(session&)`); f must not add or remove sessions.
    template <typename F>
    void for_each(F&& f) {
        for (auto& s : by_client_id_) f(s);
    }
    template <typename F>
    void for_each(F&& f) const {
        for (const auto& s : by_client_id_) f(s);
    }
    // Every known connection (`f(const conn_ref&)`), live or detached.
    template <typename F>
    void for_each_connection(F&& f) const {
        for (const auto& s : by_conn_) f(*s.conn);
        for (const auto& c : detached_) f(c);
    }

  private:
    struct client_id_of {
        using type = std::string_view;
        std::string_view operator()(const session& s) const { return s.client_id; }
    };
    struct id_of {
        using type = subscriber_id;
        subscriber_id operator()(const session& s) const { return s.id; }
    };
    struct conn_of {
        using type = conn_ref;
        conn_ref operator()(const session& s) const { return *s.conn; }
    };

    util::intrusive_index<session, &session::by_client_id_link, client_id_of,
                          std::hash<std::string_view>>
        by_client_id_;
    util::intrusive_index<session, &session::by_id_link, id_of, std::hash<subscriber_id>> by_id_;
    util::intrusive_index<session, &session::by_conn_link, conn_of, conn_ref_hash> by_conn_;
    std::unordered_set<conn_ref, conn_ref_hash> detached_;
};

}  // namespace router
