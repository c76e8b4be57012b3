// router::message_history: the recent routed messages a router keeps to
// complete sessions that arrive from peers. seen() per origin, replay() after
// per-origin high-water marks (oldest first), eviction by count and by age,
// and whether replay() could reach back far enough.
#include "router/message_history.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using router::message_ptr;

namespace {

using time_point = router::message_history::clock::time_point;
const time_point t0{std::chrono::hours(1000)};  // an explicit, arbitrary origin of time

message_ptr msg(const std::string& origin, std::uint64_t stamp) {
    auto m = std::make_shared<router::message>();
    m->topic = "t/" + origin + "/" + std::to_string(stamp);
    m->payload = std::make_shared<const std::string>("p");
    m->qos = 1;
    m->stamp = stamp;
    m->origin = origin;
    return m;
}

// "origin:stamp" of every message replay() offers, in order, and its result.
struct replayed {
    bool complete = false;
    std::vector<std::string> visited;
};

replayed replay(const router::message_history& h, const std::vector<events::high_water>& seen) {
    replayed r;
    r.complete = h.replay(seen, [&](const message_ptr& m) {
        r.visited.push_back(m->origin + ":" + std::to_string(m->stamp));
    });
    return r;
}

std::vector<std::string> seen_of(const router::message_history& h) {
    std::vector<std::string> out;
    for (const auto& w : h.seen()) out.push_back(w.origin + ":" + std::to_string(w.stamp));
    std::sort(out.begin(), out.end());
    return out;
}

using strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(message_history)

BOOST_AUTO_TEST_CASE(seen_is_the_highest_stamp_per_origin) {
    router::message_history h(60s, 100);
    BOOST_TEST(h.seen().empty());
    h.add(msg("ra", 5), t0);
    h.add(msg("rb", 3), t0);
    h.add(msg("ra", 7), t0);
    h.add(msg("rc", 1), t0);
    BOOST_TEST(seen_of(h) == (strings{"ra:7", "rb:3", "rc:1"}), boost::test_tools::per_element());
    BOOST_TEST(h.size() == 4u);
}

BOOST_AUTO_TEST_CASE(replay_offers_what_is_newer_than_each_origins_mark_oldest_first) {
    router::message_history h(60s, 100);
    // Routing order interleaves the origins; each origin's stamps increase.
    h.add(msg("ra", 1), t0);
    h.add(msg("rb", 10), t0 + 1ms);
    h.add(msg("ra", 2), t0 + 2ms);
    h.add(msg("rb", 11), t0 + 3ms);
    h.add(msg("ra", 3), t0 + 4ms);

    auto r = replay(h, {{"ra", 1}, {"rb", 10}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited == (strings{"ra:2", "rb:11", "ra:3"}), boost::test_tools::per_element());

    // A mark equal to a stamp excludes that message; a mark past everything
    // offers nothing of that origin.
    r = replay(h, {{"ra", 3}, {"rb", 11}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited.empty());

    // An origin absent from `seen`: every message of it.
    r = replay(h, {{"ra", 2}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited == (strings{"rb:10", "rb:11", "ra:3"}), boost::test_tools::per_element());

    // Nothing seen at all: everything, in routing order.
    r = replay(h, {});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited == (strings{"ra:1", "rb:10", "ra:2", "rb:11", "ra:3"}),
               boost::test_tools::per_element());

    // Marks for origins the history never saw change nothing.
    r = replay(h, {{"rz", 99}, {"ra", 2}, {"rb", 11}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited == (strings{"ra:3"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(eviction_by_count_drops_the_oldest) {
    router::message_history h(60s, 3);
    for (std::uint64_t s = 1; s <= 5; ++s) h.add(msg("ra", s), t0);
    BOOST_TEST(h.size() == 3u);
    // seen() still reports the highest routed, evicted or not.
    BOOST_TEST(seen_of(h) == (strings{"ra:5"}), boost::test_tools::per_element());

    // ra:1 and ra:2 are gone. A receiver that had seen ra:2 misses nothing.
    auto r = replay(h, {{"ra", 2}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited == (strings{"ra:3", "ra:4", "ra:5"}), boost::test_tools::per_element());

    // One that had seen only ra:1 needs ra:2, which was dropped: incomplete,
    // but what is still there is offered.
    r = replay(h, {{"ra", 1}});
    BOOST_TEST(!r.complete);
    BOOST_TEST(r.visited == (strings{"ra:3", "ra:4", "ra:5"}), boost::test_tools::per_element());
    r = replay(h, {{"ra", 0}});
    BOOST_TEST(!r.complete);

    // An origin not listed in `seen` is never a gap (the sender never heard of it).
    r = replay(h, {{"rb", 0}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited.size() == 3u);
    BOOST_TEST(replay(h, {}).complete);
}

BOOST_AUTO_TEST_CASE(eviction_by_count_is_per_message_not_per_origin) {
    router::message_history h(60s, 2);
    h.add(msg("ra", 1), t0);
    h.add(msg("rb", 1), t0);
    h.add(msg("rb", 2), t0);  // evicts ra:1
    BOOST_TEST(h.size() == 2u);
    auto r = replay(h, {{"ra", 0}, {"rb", 0}});
    BOOST_TEST(!r.complete);  // ra:1 is missing
    BOOST_TEST(r.visited == (strings{"rb:1", "rb:2"}), boost::test_tools::per_element());
    // rb is complete from 0: only origin ra has a gap.
    r = replay(h, {{"ra", 1}, {"rb", 0}});
    BOOST_TEST(r.complete);
    BOOST_TEST(r.visited == (strings{"rb:1", "rb:2"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(eviction_by_age_on_add_and_on_expire) {
    router::message_history h(100ms, 1000);
    h.add(msg("ra", 1), t0);
    h.add(msg("ra", 2), t0 + 50ms);
    h.add(msg("rb", 7), t0 + 60ms);
    BOOST_TEST(h.size() == 3u);

    // Adding at t0+120ms drops ra:1 (120ms old) but keeps ra:2 (70ms).
    h.add(msg("ra", 3), t0 + 120ms);
    BOOST_TEST(h.size() == 3u);
    auto r = replay(h, {{"ra", 0}, {"rb", 0}});
    BOOST_TEST(!r.complete);
    BOOST_TEST(r.visited == (strings{"ra:2", "rb:7", "ra:3"}), boost::test_tools::per_element());
    BOOST_TEST(replay(h, {{"ra", 1}, {"rb", 0}}).complete);

    // Exactly max_age old is kept; older is dropped.
    h.expire(t0 + 150ms);
    BOOST_TEST(h.size() == 3u);
    h.expire(t0 + 150ms + 1ns);
    BOOST_TEST(h.size() == 2u);
    r = replay(h, {{"ra", 1}, {"rb", 0}});
    BOOST_TEST(!r.complete);  // ra:2 dropped
    BOOST_TEST(r.visited == (strings{"rb:7", "ra:3"}), boost::test_tools::per_element());

    // Everything expires; seen() remembers the marks.
    h.expire(t0 + 1s);
    BOOST_TEST(h.size() == 0u);
    BOOST_TEST(seen_of(h) == (strings{"ra:3", "rb:7"}), boost::test_tools::per_element());
    r = replay(h, {{"ra", 3}, {"rb", 7}});
    BOOST_TEST(r.complete);  // nothing newer was ever routed
    BOOST_TEST(r.visited.empty());
    r = replay(h, {{"ra", 3}, {"rb", 6}});
    BOOST_TEST(!r.complete);
    BOOST_TEST(replay(h, {{"rc", 0}}).complete);
}

BOOST_AUTO_TEST_CASE(zero_count_keeps_nothing_but_knows_it_has_gaps) {
    // A router without peers keeps no history (router_core passes count 0).
    router::message_history h(60s, 0);
    h.add(msg("ra", 4), t0);
    BOOST_TEST(h.size() == 0u);
    BOOST_TEST(seen_of(h) == (strings{"ra:4"}), boost::test_tools::per_element());
    BOOST_TEST(replay(h, {{"ra", 4}}).complete);
    auto r = replay(h, {{"ra", 3}});
    BOOST_TEST(!r.complete);
    BOOST_TEST(r.visited.empty());
}

BOOST_AUTO_TEST_SUITE_END()
