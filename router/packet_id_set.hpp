// The packet ids of a session's inbound QoS 2 messages whose PUBREL has not
// arrived. Almost always empty, so the hash set exists only while it holds an
// id (a std::unordered_set costs 56 bytes in every session even when empty;
// this costs 8). A client may hold up to 65,535 of them: hashing keeps each
// operation O(1), where a sorted vector would make a flood quadratic.
//
// Part of router::session; touched only on the router's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_set>

namespace router {

class packet_id_set {
  public:
    using set_type = std::unordered_set<std::uint16_t>;

    packet_id_set() = default;
    packet_id_set(packet_id_set&&) noexcept = default;
    packet_id_set& operator=(packet_id_set&&) noexcept = default;
    packet_id_set(const packet_id_set& other)
        : ids_(other.ids_ ? std::make_unique<set_type>(*other.ids_) : nullptr) {}
    packet_id_set& operator=(const packet_id_set& other) {
        if (this != &other) *this = packet_id_set(other);
        return *this;
    }

    bool empty() const { return !ids_; }
    std::size_t size() const { return ids_ ? ids_->size() : 0; }
    bool contains(std::uint16_t id) const { return ids_ && ids_->count(id) != 0; }

    // True if `id` was not there.
    bool insert(std::uint16_t id) {
        if (!ids_) ids_ = std::make_unique<set_type>();
        return ids_->insert(id).second;
    }
    template <typename It>
    void insert(It first, It last) {
        for (; first != last; ++first) insert(*first);
    }
    // True if `id` was there. The last one out frees the set.
    bool erase(std::uint16_t id) {
        if (!ids_ || ids_->erase(id) == 0) return false;
        if (ids_->empty()) ids_.reset();
        return true;
    }
    void clear() { ids_.reset(); }

    set_type::const_iterator begin() const { return ids_ ? ids_->begin() : none().begin(); }
    set_type::const_iterator end() const { return ids_ ? ids_->end() : none().end(); }

  private:
    static const set_type& none() {
        static const set_type empty;
        return empty;
    }
    std::unique_ptr<set_type> ids_;
};

}  // namespace router
