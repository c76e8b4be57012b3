// A set of changes to the store, applied all or nothing by db::commit (one
// RocksDB WriteBatch, one write-ahead log record).
//
// Filled by the router without any I/O (a batch needs no open db); put_*
// replaces a record, erase_* removes it (erasing a missing record is fine).
// Operations apply in the order they were added, so erase_session followed by
// put_session/put_outbound in the same batch leaves only the new records.
//
// Not thread-safe: owned by whoever fills it (the router thread). Movable; a
// moved-from batch may only be assigned to or destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/events/events.hpp"
#include "store/records.hpp"

namespace rocksdb {
class WriteBatch;
}

namespace store {

class db;

class batch {
  public:
    batch();
    ~batch();
    batch(batch&&) noexcept;
    batch& operator=(batch&&) noexcept;
    batch(const batch&) = delete;
    batch& operator=(const batch&) = delete;

    // Named u64 values ("next_message_id", "hlc", ...).
    void put_meta(std::string_view name, std::uint64_t value);
    void erase_meta(std::string_view name);

    // A message, stored once whatever the number of sessions referring to it
    // (id != 0). The payload is copied once, into the batch.
    void put_message(std::uint64_t id, const events::stored_message& m);
    void erase_message(std::uint64_t id);

    // A persistent session's own record (subscriptions, last packet id, ...).
    void put_session(std::string_view client_id, const session_record& s);
    // The session record and all its outbound and inbound records (two range
    // deletions: nothing of another client id is touched).
    void erase_session(std::string_view client_id);

    void put_outbound(std::string_view client_id, const outbound_record& e);
    void erase_outbound(std::string_view client_id, std::uint64_t seq);

    // An inbound QoS 2 packet id whose PUBREL has not arrived.
    void put_inbound(std::string_view client_id, std::uint16_t packet_id);
    void erase_inbound(std::string_view client_id, std::uint16_t packet_id);

    // The retained message of m.topic; an empty payload is a deletion marker
    // and is stored as such (it carries the stamp for last-writer-wins).
    void put_retained(const events::stored_message& m);
    // Drops the topic's record altogether (e.g. an expired tombstone).
    void erase_retained(std::string_view topic);

    // The outbox of forwarded messages a peer router has not acknowledged.
    void put_forward(std::string_view peer, const forward_record& f);
    void erase_forward(std::string_view peer, std::uint64_t stamp);
    // Every entry for that peer (one range deletion).
    void erase_forward_peer(std::string_view peer);

    // Size of the encoded batch in bytes (what the log record will take).
    std::size_t bytes() const;
    // Number of operations.
    std::size_t count() const;
    bool empty() const { return count() == 0; }
    void clear();

  private:
    friend class db;
    std::unique_ptr<rocksdb::WriteBatch> rep_;
};

}  // namespace store
