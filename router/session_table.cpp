#include "router/session_table.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

namespace router {

session_table::~session_table() {
    std::vector<session*> all;
    all.reserve(size());
    for_each([&](session& s) { all.push_back(&s); });
    for (session* s : all) remove(*s);
}

bool session_table::knows(const conn_ref& c) const {
    return by_conn_.contains(c) || detached_.contains(c);
}

session& session_table::add(std::unique_ptr<session> s) {
    // The callers check first; a breach would corrupt the indexes.
    if (s->conn || by_client_id_.contains(s->client_id) || by_id_.contains(s->id))
        throw std::logic_error("session_table::add: a connected session, or a duplicate key");
    session& added = *s;
    by_client_id_.insert(added);
    try {
        by_id_.insert(added);
    } catch (...) {  // (growing the buckets failed): nothing stays linked
        by_client_id_.erase(added);
        throw;
    }
    s.release();  // owned by the table from here: remove() deletes it
    return added;
}

void session_table::remove(session& s) {
    if (decltype(by_conn_)::linked(s)) by_conn_.erase(s);
    by_id_.erase(s);
    by_client_id_.erase(s);
    delete &s;
}

void session_table::connect(session& s, const conn_ref& c) {
    if (s.conn || knows(c))
        throw std::logic_error(
            "session_table::connect: a connected session, or a known connection");
    s.conn = c;  // the key by_conn_ reads
    try {
        by_conn_.insert(s);
    } catch (...) {
        s.conn.reset();
        throw;
    }
}

void session_table::detach(session& s) {
    by_conn_.erase(s);
    detached_.insert(*s.conn);
    s.conn.reset();
}

session* session_table::disconnect(const conn_ref& c) {
    if (session* s = by_conn_.find(c)) {
        by_conn_.erase(*s);
        s->conn.reset();
        return s;
    }
    detached_.erase(c);
    return nullptr;
}

}  // namespace router
