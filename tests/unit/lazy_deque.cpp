// util::lazy_deque: nothing allocated until the first element, std::deque's
// behaviour after that, and clear() giving the memory back.
#include "common/util/lazy_deque.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(lazy_deque)

BOOST_AUTO_TEST_CASE(brace_initialised_and_reset_with_braces) {
    // Not an aggregate: {} is its default constructor (as in a session built with {}).
    util::lazy_deque<std::string> q{};
    BOOST_TEST(!q.allocated());
    q.push_back("a");
    q = {};
    BOOST_TEST(!q.allocated());
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(an_unused_one_allocates_nothing_and_is_an_empty_range) {
    util::lazy_deque<std::string> q;
    BOOST_TEST(!q.allocated());
    BOOST_TEST(q.empty());
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST((q.begin() == q.end()));
    const auto& cq = q;
    BOOST_TEST((cq.begin() == cq.end()));
    BOOST_TEST((std::find(q.begin(), q.end(), "x") == q.end()));
    q.clear();  // on a never-allocated one: fine, still nothing
    BOOST_TEST(!q.allocated());
    // Copies and moves of an unused one stay unallocated.
    auto copy = q;
    auto moved = std::move(copy);
    BOOST_TEST(!moved.allocated());
}

BOOST_AUTO_TEST_CASE(behaves_as_a_deque_once_used_and_clear_frees_it) {
    util::lazy_deque<int> q;
    q.push_back(1);
    q.emplace_back(2);
    const int three = 3;
    q.push_back(three);
    BOOST_TEST(q.allocated());
    BOOST_TEST(q.size() == 3u);
    BOOST_TEST(q.front() == 1);
    BOOST_TEST(q.back() == 3);
    BOOST_TEST(q[1] == 2);

    auto it = std::find(q.begin(), q.end(), 2);
    BOOST_REQUIRE((it != q.end()));
    it = q.erase(it);
    BOOST_TEST(*it == 3);
    q.pop_front();
    BOOST_TEST(std::vector<int>(q.begin(), q.end()) == std::vector<int>{3});

    // Emptied by pop_front it keeps its memory (no allocation per message on
    // a busy session)...
    q.pop_front();
    BOOST_TEST(q.empty());
    BOOST_TEST(q.allocated());
    // ... and clear() gives it back.
    q.push_back(4);
    q.clear();
    BOOST_TEST(q.empty());
    BOOST_TEST(!q.allocated());
}

BOOST_AUTO_TEST_CASE(copies_are_deep) {
    util::lazy_deque<int> a;
    a.push_back(7);
    auto b = a;
    b.push_back(8);
    BOOST_TEST(a.size() == 1u);
    BOOST_TEST(b.size() == 2u);
    a = b;
    BOOST_TEST(a.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
