// Rendezvous (highest random weight) hashing: which router owns a client id.
//
// Every frontend and every router computes the owner the same way, over the
// router ids it currently deems live, so they agree whenever their views of
// the live set agree; adding or removing a router moves only the client ids
// it wins or held. (When views differ for a moment, the router that gets a
// CONNECT fetches the session from its peers, so a disagreement costs a
// round trip, never a session.)
//
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <iterator>
#include <string_view>

namespace cluster {

// FNV-1a over key and router id, finalised with splitmix64 so that similar
// ids spread well.
inline std::uint64_t rendezvous_weight(std::string_view key, std::string_view router_id) {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    mix(key);
    mix("\x1f");
    mix(router_id);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

// The candidate with the highest weight for `key` (ties: the smaller id), or
// nullptr when there is none. `Range` yields something convertible to
// std::string_view.
template <typename Range>
auto rendezvous_owner(std::string_view key, const Range& router_ids)
    -> decltype(&*std::begin(router_ids)) {
    decltype(&*std::begin(router_ids)) best = nullptr;
    std::uint64_t best_weight = 0;
    for (const auto& id : router_ids) {
        const auto w = rendezvous_weight(key, id);
        if (best == nullptr || w > best_weight ||
            (w == best_weight && std::string_view(id) < std::string_view(*best))) {
            best = &id;
            best_weight = w;
        }
    }
    return best;
}

}  // namespace cluster
