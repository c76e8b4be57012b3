// Key and value encodings of the store's records (docs/store.md, byte by
// byte). Big-endian integers, so that keys sort in numeric order under
// RocksDB's bytewise comparator; strings inside keys carry a 4-byte length
// prefix so that one client id's keys never share a prefix with another's
// ("a" never matches "ab"). Every value starts with a record version byte.
//
// Decoders are strict: they return false on a wrong length, an unknown
// record version, reserved bits set or an out-of-range field.
//
// Pure code; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/events/events.hpp"
#include "store/records.hpp"

namespace store::codec {

inline constexpr std::uint8_t record_version = 1;

// The default column family's key holding the format version.
inline constexpr std::string_view format_key = "format_version";

// ---- keys ----------------------------------------------------------------

std::string message_key(std::uint64_t id);  // 8 bytes
bool decode_message_key(std::string_view key, std::uint64_t& id);

// [u32 length][client id]: the prefix of every outbound and inbound key of a
// session.
std::string client_prefix(std::string_view client_id);
std::string outbound_key(std::string_view client_id, std::uint64_t seq);
bool decode_outbound_key(std::string_view key, std::string& client_id, std::uint64_t& seq);
std::string inbound_key(std::string_view client_id, std::uint16_t packet_id);
bool decode_inbound_key(std::string_view key, std::string& client_id, std::uint16_t& packet_id);

// [u32 length][peer router id][u64 stamp]
std::string forward_key(std::string_view peer, std::uint64_t stamp);
bool decode_forward_key(std::string_view key, std::string& peer, std::uint64_t& stamp);

// The smallest key greater than every key that starts with `prefix` (the end
// of a DeleteRange over the prefix). The prefix must contain a byte < 0xff,
// which every client_prefix does (its length bytes).
std::string prefix_end(std::string_view prefix);

// ---- values ----------------------------------------------------------------

// A message (messages and retained column families) is head + payload: the
// payload is the remainder of the value, so a batch can append it without
// building the whole value first.
std::string message_head(const events::stored_message& m);
std::string encode_message(const events::stored_message& m);
bool decode_message(std::string_view value, events::stored_message& m);

std::string encode_session(const session_record& s);
bool decode_session(std::string_view value, session_record& s);

// The seq is in the key: decode_outbound leaves e.seq alone.
std::string encode_outbound(const outbound_record& e);
bool decode_outbound(std::string_view value, outbound_record& e);

std::string encode_u64(std::uint64_t v);  // meta values
bool decode_u64(std::string_view value, std::uint64_t& v);
std::string encode_u32(std::uint32_t v);  // the format version
bool decode_u32(std::string_view value, std::uint32_t& v);

}  // namespace store::codec
