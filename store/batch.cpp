#include "store/batch.hpp"

#include <rocksdb/write_batch.h>

#include <array>
#include <string>

#include "store/codec.hpp"
#include "store/column_family.hpp"

namespace store {
namespace {

// WriteBatch operations only fail for column families with user-defined
// timestamps, which the store does not use: their statuses are ignored.
rocksdb::ColumnFamilyHandle* cf(family f) {
    return batch_handle(f);
}

}  // namespace

batch::batch() : rep_(std::make_unique<rocksdb::WriteBatch>()) {}
batch::~batch() = default;
batch::batch(batch&&) noexcept = default;
batch& batch::operator=(batch&&) noexcept = default;

void batch::put_meta(std::string_view name, std::uint64_t value) {
    (void)rep_->Put(cf(family::meta), name, codec::encode_u64(value));
}

void batch::erase_meta(std::string_view name) {
    (void)rep_->Delete(cf(family::meta), name);
}

void batch::put_message(std::uint64_t id, const events::stored_message& m) {
    const std::string key = codec::message_key(id);
    const std::string head = codec::message_head(m);
    const rocksdb::Slice key_part(key);
    const std::array<rocksdb::Slice, 2> value_parts{rocksdb::Slice(head),
                                                    rocksdb::Slice(m.payload)};
    (void)rep_->Put(cf(family::messages), rocksdb::SliceParts(&key_part, 1),
                    rocksdb::SliceParts(value_parts.data(), 2));
}

void batch::erase_message(std::uint64_t id) {
    (void)rep_->Delete(cf(family::messages), codec::message_key(id));
}

void batch::put_session(std::string_view client_id, const session_record& s) {
    (void)rep_->Put(cf(family::sessions), client_id, codec::encode_session(s));
}

void batch::erase_session(std::string_view client_id) {
    (void)rep_->Delete(cf(family::sessions), client_id);
    const std::string begin = codec::client_prefix(client_id);
    const std::string end = codec::prefix_end(begin);
    (void)rep_->DeleteRange(cf(family::outbound), begin, end);
    (void)rep_->DeleteRange(cf(family::inbound), begin, end);
}

void batch::put_outbound(std::string_view client_id, const outbound_record& e) {
    (void)rep_->Put(cf(family::outbound), codec::outbound_key(client_id, e.seq),
                    codec::encode_outbound(e));
}

void batch::erase_outbound(std::string_view client_id, std::uint64_t seq) {
    (void)rep_->Delete(cf(family::outbound), codec::outbound_key(client_id, seq));
}

void batch::put_inbound(std::string_view client_id, std::uint16_t packet_id) {
    (void)rep_->Put(cf(family::inbound), codec::inbound_key(client_id, packet_id),
                    rocksdb::Slice());
}

void batch::erase_inbound(std::string_view client_id, std::uint16_t packet_id) {
    (void)rep_->Delete(cf(family::inbound), codec::inbound_key(client_id, packet_id));
}

void batch::put_retained(const events::stored_message& m) {
    const std::string head = codec::message_head(m);
    const rocksdb::Slice key_part(m.topic);
    const std::array<rocksdb::Slice, 2> value_parts{rocksdb::Slice(head),
                                                    rocksdb::Slice(m.payload)};
    (void)rep_->Put(cf(family::retained), rocksdb::SliceParts(&key_part, 1),
                    rocksdb::SliceParts(value_parts.data(), 2));
}

void batch::erase_retained(std::string_view topic) {
    (void)rep_->Delete(cf(family::retained), topic);
}

void batch::put_forward(std::string_view peer, const forward_record& f) {
    (void)rep_->Put(cf(family::forward), codec::forward_key(peer, f.stamp),
                    codec::encode_u64(f.message_id));
}

void batch::erase_forward(std::string_view peer, std::uint64_t stamp) {
    (void)rep_->Delete(cf(family::forward), codec::forward_key(peer, stamp));
}

void batch::erase_forward_peer(std::string_view peer) {
    const std::string begin = codec::client_prefix(peer);
    (void)rep_->DeleteRange(cf(family::forward), begin, codec::prefix_end(begin));
}

std::size_t batch::bytes() const {
    return rep_->GetDataSize();
}

std::size_t batch::count() const {
    return rep_->Count();
}

void batch::clear() {
    rep_->Clear();
}

}  // namespace store
