// router::packet_id_set: a set of packet ids that allocates only while it
// holds one.
#include "router/packet_id_set.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <vector>

BOOST_AUTO_TEST_SUITE(packet_id_set)

BOOST_AUTO_TEST_CASE(holds_ids_once_and_frees_itself_when_emptied) {
    router::packet_id_set s;
    BOOST_TEST(s.empty());
    BOOST_TEST((s.begin() == s.end()));
    BOOST_TEST(!s.erase(7));  // nothing to erase, nothing allocated
    BOOST_TEST(s.empty());
    BOOST_TEST(s.insert(7));
    BOOST_TEST(!s.insert(7));  // a duplicate PUBLISH of an id still awaiting PUBREL
    BOOST_TEST(s.insert(65535));
    BOOST_TEST(s.size() == 2u);
    BOOST_TEST(s.contains(65535));
    std::vector<std::uint16_t> ids(s.begin(), s.end());
    std::sort(ids.begin(), ids.end());
    BOOST_TEST(ids == (std::vector<std::uint16_t>{7, 65535}), boost::test_tools::per_element());
    BOOST_TEST(s.erase(7));
    BOOST_TEST(!s.erase(7));
    BOOST_TEST(s.erase(65535));
    BOOST_TEST(s.empty());  // the last one out freed it
    BOOST_TEST((s.begin() == s.end()));
}

BOOST_AUTO_TEST_CASE(copies_are_deep_and_ranges_insert) {
    router::packet_id_set a;
    const std::vector<std::uint16_t> loaded{1, 3, 3, 9};
    a.insert(loaded.begin(), loaded.end());
    BOOST_TEST(a.size() == 3u);
    auto b = a;
    b.erase(1);
    BOOST_TEST(a.contains(1));
    BOOST_TEST(!b.contains(1));
    router::packet_id_set c;
    c = b;
    c.clear();
    BOOST_TEST(c.empty());
    BOOST_TEST(b.size() == 2u);
    auto d = std::move(b);
    BOOST_TEST(d.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
