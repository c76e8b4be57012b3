// A std::deque that allocates nothing until its first element: libstdc++'s
// std::deque allocates its map and one node (about 570 bytes) at
// construction, and most router sessions have nothing in flight and nothing
// queued, so two of them cost idle connections about 1.2 KiB each.
//
// Only the operations the router's sessions use. The deque, once made, is
// kept until clear() (so a busy session does not allocate per message);
// clear() frees it. Iterators are std::deque's: an unallocated lazy_deque
// hands out the begin/end of one shared, always-empty deque, which nothing
// ever writes to. Not thread-safe beyond what std::deque is.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

namespace util {

template <typename T>
class lazy_deque {
  public:
    using value_type = T;
    using iterator = typename std::deque<T>::iterator;
    using const_iterator = typename std::deque<T>::const_iterator;

    lazy_deque() = default;
    lazy_deque(lazy_deque&&) noexcept = default;
    lazy_deque& operator=(lazy_deque&&) noexcept = default;
    lazy_deque(const lazy_deque& other)
        : d_(other.d_ ? std::make_unique<std::deque<T>>(*other.d_) : nullptr) {}
    lazy_deque& operator=(const lazy_deque& other) {
        if (this != &other) *this = lazy_deque(other);
        return *this;
    }

    bool empty() const { return !d_ || d_->empty(); }
    std::size_t size() const { return d_ ? d_->size() : 0; }
    // True once it has allocated (for tests).
    bool allocated() const { return d_ != nullptr; }

    iterator begin() { return d_ ? d_->begin() : none().begin(); }
    iterator end() { return d_ ? d_->end() : none().end(); }
    const_iterator begin() const { return d_ ? d_->cbegin() : none().cbegin(); }
    const_iterator end() const { return d_ ? d_->cend() : none().cend(); }

    // Only on a non-empty deque, as for std::deque.
    T& front() { return d_->front(); }
    T& back() { return d_->back(); }
    const T& front() const { return d_->front(); }
    const T& back() const { return d_->back(); }
    T& operator[](std::size_t i) { return (*d_)[i]; }
    const T& operator[](std::size_t i) const { return (*d_)[i]; }
    void pop_front() { d_->pop_front(); }
    iterator erase(iterator it) { return d_->erase(it); }

    void push_back(const T& v) { made().push_back(v); }
    void push_back(T&& v) { made().push_back(std::move(v)); }
    template <typename... Args>
    T& emplace_back(Args&&... args) {
        return made().emplace_back(std::forward<Args>(args)...);
    }

    void clear() { d_.reset(); }

  private:
    std::deque<T>& made() {
        if (!d_) d_ = std::make_unique<std::deque<T>>();
        return *d_;
    }
    static std::deque<T>& none() {
        static std::deque<T> empty;  // never written to
        return empty;
    }

    std::unique_ptr<std::deque<T>> d_;
};

}  // namespace util
