// A hash index over objects that carry their own link (an index_hook member,
// one pointer): the index allocates only its bucket array, one pointer per
// bucket, where a std::unordered_map allocates a node per element (key,
// value, next pointer and cached hash: 32-64 bytes) on top of its buckets.
// It exists for the router's per-session maps (session_table.hpp), which
// every idle connection paid for.
//
// Boost.Intrusive's unordered_set does the hashing and chaining; this wrapper
// owns the buckets and doubles them as the index fills (load factor <= 1),
// so callers use it like a map: find, insert, erase, size, iteration. Keys
// are unique. It never owns the objects: the caller erases an object before
// destroying it (in builds with assertions a hook destroyed while linked
// asserts). Not thread-safe; each index belongs to one thread.
#pragma once

#include <boost/intrusive/unordered_set.hpp>
#include <cstddef>
#include <functional>
#include <memory>

namespace util {

// The member an object needs for each index it is in. Safe mode: unlinked
// hooks know it (is_linked()), and copying an object does not copy links.
using index_hook = boost::intrusive::unordered_set_member_hook<
    boost::intrusive::link_mode<boost::intrusive::safe_link>>;

// KeyOf: `using type = K;` and `K operator()(const T&) const` (a key, or a
// view of one kept inside T, which must not change while T is indexed).
template <typename T, index_hook T::*Member, typename KeyOf, typename Hash,
          typename Equal = std::equal_to<>>
class intrusive_index {
    using set_type = boost::intrusive::unordered_set<
        T, boost::intrusive::member_hook<T, index_hook, Member>,
        boost::intrusive::key_of_value<KeyOf>, boost::intrusive::hash<Hash>,
        boost::intrusive::equal<Equal>, boost::intrusive::constant_time_size<true>,
        boost::intrusive::power_2_buckets<true>>;
    using bucket_type = typename set_type::bucket_type;
    using bucket_traits = typename set_type::bucket_traits;
    static constexpr std::size_t initial_buckets = 8;

  public:
    using key_type = typename KeyOf::type;
    using iterator = typename set_type::iterator;
    using const_iterator = typename set_type::const_iterator;

    intrusive_index()
        : buckets_(std::make_unique<bucket_type[]>(initial_buckets)),
          set_(bucket_traits(buckets_.get(), initial_buckets)) {}
    ~intrusive_index() { set_.clear(); }  // unlinks whatever is left
    intrusive_index(const intrusive_index&) = delete;
    intrusive_index& operator=(const intrusive_index&) = delete;

    T* find(const key_type& k) {
        auto it = set_.find(k);
        return it == set_.end() ? nullptr : &*it;
    }
    const T* find(const key_type& k) const {
        auto it = set_.find(k);
        return it == set_.end() ? nullptr : &*it;
    }
    bool contains(const key_type& k) const { return set_.find(k) != set_.end(); }
    // False (and nothing changed) when an object with t's key is indexed.
    bool insert(T& t) {
        if (set_.size() >= bucket_count_) grow();
        return set_.insert(t).second;
    }
    // Only for an object of this index.
    void erase(T& t) { set_.erase(set_.iterator_to(t)); }
    static bool linked(const T& t) { return (t.*Member).is_linked(); }

    std::size_t size() const { return set_.size(); }
    bool empty() const { return set_.empty(); }
    std::size_t bucket_count() const { return bucket_count_; }
    // In no particular order; erasing the element at hand invalidates the
    // iterator (collect first, as with any hash map).
    iterator begin() { return set_.begin(); }
    iterator end() { return set_.end(); }
    const_iterator begin() const { return set_.begin(); }
    const_iterator end() const { return set_.end(); }

  private:
    void grow() {
        const std::size_t n = bucket_count_ * 2;
        auto bigger = std::make_unique<bucket_type[]>(n);
        set_.rehash(bucket_traits(bigger.get(), n));
        buckets_ = std::move(bigger);
        bucket_count_ = n;
    }

    std::unique_ptr<bucket_type[]> buckets_;
    std::size_t bucket_count_ = initial_buckets;
    set_type set_;
};

}  // namespace util
