// util::lazy_map: nothing allocated until the first element, std::map's
// behaviour after that, the memory given back by clear() or the last erase,
// and the conversions to and from the store's plain std::map.
#include "common/util/lazy_map.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

BOOST_AUTO_TEST_SUITE(lazy_map)

using filters = util::lazy_map<std::string, std::uint8_t>;

BOOST_AUTO_TEST_CASE(brace_initialised_and_reset_with_braces) {
    // Not an aggregate: {} is its default constructor (as in a session built with {}).
    util::lazy_map<std::string, int> m{};
    BOOST_TEST(!m.allocated());
    m["a"] = 1;
    m = util::lazy_map<std::string, int>{};
    BOOST_TEST(!m.allocated());
    BOOST_TEST(m.empty());
}

BOOST_AUTO_TEST_CASE(an_unused_one_allocates_nothing_and_is_an_empty_map) {
    filters m;
    BOOST_TEST(sizeof(m) == sizeof(void*));
    BOOST_TEST(!m.allocated());
    BOOST_TEST(m.empty());
    BOOST_TEST(m.size() == 0u);
    BOOST_TEST((m.begin() == m.end()));
    BOOST_TEST((m.find("a/b") == m.end()));
    BOOST_TEST(m.count("a/b") == 0u);
    BOOST_TEST(!m.contains("a/b"));
    BOOST_CHECK_THROW(m.at("a/b"), std::out_of_range);
    const std::map<std::string, std::uint8_t, std::less<>>& plain = m;
    BOOST_TEST(plain.empty());
    m.clear();
    auto copy = m;
    auto moved = std::move(copy);
    BOOST_TEST(!moved.allocated());
    BOOST_TEST(!m.allocated());
}

BOOST_AUTO_TEST_CASE(behaves_as_a_map_once_used) {
    filters m;
    m["b/#"] = 2;
    BOOST_TEST(m.allocated());
    BOOST_TEST(m.try_emplace("a/+", 1).second);
    BOOST_TEST(!m.try_emplace("a/+", 0).second);  // already there: unchanged
    BOOST_TEST(m.at("a/+") == 1);
    BOOST_TEST(m.size() == 2u);
    std::string order;
    for (const auto& [filter, qos] : m) order += filter + "=" + std::to_string(qos) + ";";
    BOOST_TEST(order == "a/+=1;b/#=2;");  // sorted, as std::map
    const auto& cm = m;
    BOOST_TEST((cm.find("b/#") != cm.end()));
    BOOST_TEST(cm.find("b/#")->second == 2);
}

BOOST_AUTO_TEST_CASE(the_last_erase_and_clear_give_the_memory_back) {
    filters m;
    m["x"] = 0;
    m["y"] = 1;
    m.erase(m.find("x"));
    BOOST_TEST(m.allocated());  // "y" is still there
    BOOST_TEST(m.contains("y"));
    m.erase(m.find("y"));
    BOOST_TEST(!m.allocated());
    BOOST_TEST(m.empty());
    m["z"] = 1;
    m.clear();
    BOOST_TEST(!m.allocated());
}

BOOST_AUTO_TEST_CASE(copies_are_deep_and_plain_maps_convert_both_ways) {
    filters m;
    m["t"] = 1;
    filters copy = m;
    copy["u"] = 2;
    BOOST_TEST(m.size() == 1u);
    BOOST_TEST(copy.size() == 2u);

    std::map<std::string, std::uint8_t, std::less<>> plain = copy;  // as the store's record
    BOOST_TEST(plain.size() == 2u);
    filters back;
    back = std::move(plain);
    BOOST_TEST(back.at("u") == 2);
    back = std::map<std::string, std::uint8_t, std::less<>>{};  // an empty one stays unallocated
    BOOST_TEST(!back.allocated());
}

BOOST_AUTO_TEST_SUITE_END()
