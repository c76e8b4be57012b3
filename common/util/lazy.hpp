// A standard container held through one pointer, allocated on first use:
// the base of lazy_map and lazy_deque (see those for why). An unallocated
// holder reads as empty, and its iterators are the begin/end of one shared,
// always-empty container that nothing ever writes to. Copies are deep;
// clear() frees the container. Not thread-safe beyond what Container is.
#pragma once

#include <cstddef>
#include <memory>

namespace util {

template <typename Container>
class lazy {
  public:
    using container_type = Container;
    using iterator = typename Container::iterator;
    using const_iterator = typename Container::const_iterator;

    bool empty() const { return !c_ || c_->empty(); }
    std::size_t size() const { return c_ ? c_->size() : 0; }
    // True once it has allocated (for tests).
    bool allocated() const { return c_ != nullptr; }

    iterator begin() { return c_ ? c_->begin() : none().begin(); }
    iterator end() { return c_ ? c_->end() : none().end(); }
    const_iterator begin() const { return c_ ? c_->cbegin() : none().cbegin(); }
    const_iterator end() const { return c_ ? c_->cend() : none().cend(); }

    void clear() { c_.reset(); }

  protected:
    lazy() = default;
    lazy(lazy&&) noexcept = default;
    lazy& operator=(lazy&&) noexcept = default;
    lazy(const lazy& other) : c_(other.c_ ? std::make_unique<Container>(*other.c_) : nullptr) {}
    lazy& operator=(const lazy& other) {
        if (this != &other) c_ = other.c_ ? std::make_unique<Container>(*other.c_) : nullptr;
        return *this;
    }
    ~lazy() = default;

    Container& made() {
        if (!c_) c_ = std::make_unique<Container>();
        return *c_;
    }
    static Container& none() {
        static Container empty;  // never written to
        return empty;
    }

    std::unique_ptr<Container> c_;
};

}  // namespace util
