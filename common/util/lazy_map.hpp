// A std::map that takes one pointer until its first element: an empty
// std::map is 48 bytes inline, and most router sessions (devices that only
// publish) never subscribe to anything, so every idle connection paid them.
//
// Only the operations the router's sessions use. Once made, the map is kept
// until clear() or the last erase, which free it. The holder (iterators when
// unallocated, copies) is util::lazy (lazy.hpp). Converts to and from the
// plain std::map (the store's record keeps one).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <utility>

#include "common/util/lazy.hpp"

namespace util {

template <typename K, typename V, typename Compare = std::less<>>
class lazy_map : public lazy<std::map<K, V, Compare>> {
    using base = lazy<std::map<K, V, Compare>>;

  public:
    using map_type = std::map<K, V, Compare>;
    using typename base::const_iterator;
    using typename base::iterator;

    // Declared, so that it is no aggregate (brace-init would need the base's
    // protected constructor).
    lazy_map() = default;

    lazy_map& operator=(map_type&& m) {
        this->c_ = m.empty() ? nullptr : std::make_unique<map_type>(std::move(m));
        return *this;
    }
    // The contents as a plain map (an empty one when unallocated).
    operator const map_type&() const { return this->c_ ? *this->c_ : base::none(); }

    template <typename Key>
    iterator find(const Key& k) {
        return this->c_ ? this->c_->find(k) : base::none().end();
    }
    template <typename Key>
    const_iterator find(const Key& k) const {
        return this->c_ ? this->c_->find(k) : base::none().cend();
    }
    template <typename Key>
    std::size_t count(const Key& k) const {
        return this->c_ ? this->c_->count(k) : 0;
    }
    template <typename Key>
    bool contains(const Key& k) const {
        return this->c_ && this->c_->contains(k);
    }
    // Only for a key that is there, as std::map::at (which throws otherwise).
    template <typename Key>
    const V& at(const Key& k) const {
        return this->c_ ? this->c_->at(k) : base::none().at(k);
    }

    V& operator[](const K& k) { return this->made()[k]; }
    V& operator[](K&& k) { return this->made()[std::move(k)]; }
    template <typename... Args>
    std::pair<iterator, bool> try_emplace(const K& k, Args&&... args) {
        return this->made().try_emplace(k, std::forward<Args>(args)...);
    }
    // Only an iterator of this map; frees it when it was the last element.
    void erase(iterator it) {
        this->c_->erase(it);
        if (this->c_->empty()) this->c_.reset();
    }
};

}  // namespace util
