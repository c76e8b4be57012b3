// A std::deque that allocates nothing until its first element: libstdc++'s
// std::deque allocates its map and one node (about 570 bytes) at
// construction, and most router sessions have nothing in flight and nothing
// queued, so two of them cost idle connections about 1.2 KiB each.
//
// Only the operations the router's sessions use. The deque, once made, is
// kept until clear() (so a busy session does not allocate per message);
// clear() frees it. The holder (iterators when unallocated, copies) is
// util::lazy (lazy.hpp).
#pragma once

#include <deque>
#include <utility>

#include "common/util/lazy.hpp"

namespace util {

template <typename T>
class lazy_deque : public lazy<std::deque<T>> {
    using base = lazy<std::deque<T>>;

  public:
    using value_type = T;
    using typename base::const_iterator;
    using typename base::iterator;

    // Declared, so that it is no aggregate (brace-init would need the base's
    // protected constructor).
    lazy_deque() = default;

    // Only on a non-empty deque, as for std::deque.
    T& front() { return this->c_->front(); }
    T& back() { return this->c_->back(); }
    const T& front() const { return this->c_->front(); }
    const T& back() const { return this->c_->back(); }
    T& operator[](std::size_t i) { return (*this->c_)[i]; }
    const T& operator[](std::size_t i) const { return (*this->c_)[i]; }
    void pop_front() { this->c_->pop_front(); }
    iterator erase(iterator it) { return this->c_->erase(it); }

    void push_back(const T& v) { this->made().push_back(v); }
    void push_back(T&& v) { this->made().push_back(std::move(v)); }
    template <typename... Args>
    T& emplace_back(Args&&... args) {
        return this->made().emplace_back(std::forward<Args>(args)...);
    }
};

}  // namespace util
