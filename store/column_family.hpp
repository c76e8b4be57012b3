// The store's column families: one per record kind, with fixed ids. A new
// store creates them in this order, so RocksDB assigns exactly these ids; an
// existing store is checked against them at open. Because the ids are fixed,
// a batch can be filled before (and without) an open db, through the
// stand-in handles below, which carry only the id and the comparator.
//
// Internal to store/. Immutable; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace rocksdb {
class ColumnFamilyHandle;
}

namespace store {

enum class family : std::uint32_t {
    // "default": store-internal values (the format version).
    base = 0,
    meta = 1,      // name -> u64
    messages = 2,  // message id -> stored message
    sessions = 3,  // client id -> session record
    outbound = 4,  // [len][client id][seq] -> outbound entry
    inbound = 5,   // [len][client id][packet id] -> (empty)
    retained = 6,  // topic -> stored message
    forward = 7,   // [len][peer router id][stamp] -> message id (format 2)
};

inline constexpr std::size_t family_count = 7 + 1;
// The first family that format 1 stores lack (created when they are opened).
inline constexpr std::size_t first_format2_family = 7;

// Names as stored in the MANIFEST, indexed by id.
const std::array<std::string, family_count>& family_names();

// A handle usable with rocksdb::WriteBatch (only GetID and GetComparator are
// meaningful).
rocksdb::ColumnFamilyHandle* batch_handle(family f);

}  // namespace store
