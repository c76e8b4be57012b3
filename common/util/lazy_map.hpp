// A std::map that takes one pointer until its first element: an empty
// std::map is 48 bytes inline, and most router sessions (devices that only
// publish) never subscribe to anything, so every idle connection paid them.
//
// Only the operations the router's sessions use. Once made, the map is kept
// until clear() or the last erase, which free it. Iterators are std::map's:
// an unallocated lazy_map hands out the begin/end of one shared,
// always-empty map, which nothing ever writes to. Converts to and from the
// plain std::map (the store's record keeps one). Not thread-safe beyond what
// std::map is.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <utility>

namespace util {

template <typename K, typename V, typename Compare = std::less<>>
class lazy_map {
  public:
    using map_type = std::map<K, V, Compare>;
    using iterator = typename map_type::iterator;
    using const_iterator = typename map_type::const_iterator;

    lazy_map() = default;
    lazy_map(lazy_map&&) noexcept = default;
    lazy_map& operator=(lazy_map&&) noexcept = default;
    lazy_map(const lazy_map& other)
        : m_(other.m_ ? std::make_unique<map_type>(*other.m_) : nullptr) {}
    lazy_map& operator=(const lazy_map& other) {
        if (this != &other) *this = lazy_map(other);
        return *this;
    }
    lazy_map& operator=(map_type&& m) {
        m_ = m.empty() ? nullptr : std::make_unique<map_type>(std::move(m));
        return *this;
    }
    // The contents as a plain map (an empty one when unallocated).
    operator const map_type&() const { return m_ ? *m_ : none(); }

    bool empty() const { return !m_ || m_->empty(); }
    std::size_t size() const { return m_ ? m_->size() : 0; }
    // True once it has allocated (for tests).
    bool allocated() const { return m_ != nullptr; }

    iterator begin() { return m_ ? m_->begin() : none().begin(); }
    iterator end() { return m_ ? m_->end() : none().end(); }
    const_iterator begin() const { return m_ ? m_->cbegin() : none().cbegin(); }
    const_iterator end() const { return m_ ? m_->cend() : none().cend(); }

    template <typename Key>
    iterator find(const Key& k) {
        return m_ ? m_->find(k) : none().end();
    }
    template <typename Key>
    const_iterator find(const Key& k) const {
        return m_ ? m_->find(k) : none().cend();
    }
    template <typename Key>
    std::size_t count(const Key& k) const {
        return m_ ? m_->count(k) : 0;
    }
    template <typename Key>
    bool contains(const Key& k) const {
        return m_ && m_->contains(k);
    }
    // Only for a key that is there, as std::map::at (which throws otherwise).
    template <typename Key>
    const V& at(const Key& k) const {
        return m_ ? m_->at(k) : none().at(k);
    }

    V& operator[](const K& k) { return made()[k]; }
    V& operator[](K&& k) { return made()[std::move(k)]; }
    template <typename... Args>
    std::pair<iterator, bool> try_emplace(const K& k, Args&&... args) {
        return made().try_emplace(k, std::forward<Args>(args)...);
    }
    // Only an iterator of this map; frees it when it was the last element.
    void erase(iterator it) {
        m_->erase(it);
        if (m_->empty()) m_.reset();
    }
    void clear() { m_.reset(); }

  private:
    map_type& made() {
        if (!m_) m_ = std::make_unique<map_type>();
        return *m_;
    }
    static map_type& none() {
        static map_type empty;  // never written to
        return empty;
    }

    std::unique_ptr<map_type> m_;
};

}  // namespace util
