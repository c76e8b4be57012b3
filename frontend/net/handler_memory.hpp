// Memory for the Asio operations a connection starts on every packet: the
// posted read, the wait for the socket, the posted completion of a TLS
// write. Asio recycles one block per thread, so a handler that starts two
// operations paid a malloc and a free for the second (about five per
// message routed, callgrind). Here freed blocks wait in per-thread lists by
// size (16-byte steps up to 512 bytes, at most 256 blocks per step) for the
// next operation of that size. A block is asked of operator new at its
// exact step, as Asio would ask, so an idle connection's pending wait costs
// what it cost before.
//
// Wrap a handler with with_handler_memory(h): Asio finds the allocator
// through its get_allocator(). The handler's associated executor is not
// forwarded: these handlers use their I/O object's.
//
// Per thread, no locking. A block freed on another thread than the one that
// took it joins that thread's lists (still plain heap memory). Under
// AddressSanitizer every block goes back to the heap at once, so a use after
// free is still caught.
#pragma once

#include <cstddef>
#include <new>
#include <utility>
#include <vector>

namespace frontend {

class handler_memory {
  public:
    static void* allocate(std::size_t size) {
        const auto step = step_of(size);
        if (step < steps && pooled()) {
            auto& free = lists()[step];
            if (!free.empty()) {
                void* p = free.back();
                free.pop_back();
                return p;
            }
        }
        return ::operator new(step < steps ? (step + 1) * granule : size);
    }
    static void deallocate(void* p, std::size_t size) noexcept {
        const auto step = step_of(size);
        if (step < steps && pooled()) {
            auto& free = lists()[step];
            if (free.size() < max_free_per_size) {
                try {
                    free.push_back(p);
                    return;
                } catch (...) {  // no room to keep it: give it back below
                }
            }
        }
        ::operator delete(p);
    }

    // Whether freed blocks are kept (not under AddressSanitizer), and how
    // many this thread keeps now (for tests).
    static constexpr bool pooled() {
#if defined(__SANITIZE_ADDRESS__)
        return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
        return false;
#else
        return true;
#endif
#else
        return true;
#endif
    }
    static std::size_t free_blocks() {
        std::size_t n = 0;
        for (auto& list : lists().by_step) n += list.size();
        return n;
    }
    static constexpr std::size_t max_pooled_size = 512;
    static constexpr std::size_t max_free_per_size = 256;

  private:
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t steps = max_pooled_size / granule;

    static std::size_t step_of(std::size_t size) {
        return size == 0 ? 0 : (size - 1) / granule;
    }

    struct free_lists {
        std::vector<void*> by_step[steps];
        ~free_lists() {
            for (auto& list : by_step)
                for (void* p : list) ::operator delete(p);
        }
        std::vector<void*>& operator[](std::size_t step) { return by_step[step]; }
    };
    static free_lists& lists() {
        thread_local free_lists instance;
        return instance;
    }
};

template <class T>
struct handler_allocator {
    using value_type = T;
    handler_allocator() noexcept = default;
    template <class U>
    handler_allocator(const handler_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(handler_memory::allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { handler_memory::deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const handler_allocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const handler_allocator<U>&) const noexcept {
        return false;
    }
};

template <class Handler>
struct handler_with_memory {
    Handler handler;
    using allocator_type = handler_allocator<void>;
    allocator_type get_allocator() const noexcept { return {}; }
    template <class... Args>
    void operator()(Args&&... args) {
        handler(std::forward<Args>(args)...);
    }
};

template <class Handler>
handler_with_memory<std::decay_t<Handler>> with_handler_memory(Handler&& h) {
    return {std::forward<Handler>(h)};
}

}  // namespace frontend
