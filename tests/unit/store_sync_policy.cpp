// The --sync policy names of the store (sync_policy.hpp).
#include <boost/test/unit_test.hpp>
#include <string>

#include "store/sync_policy.hpp"

BOOST_AUTO_TEST_SUITE(store_sync_policy)

BOOST_AUTO_TEST_CASE(names_round_trip) {
    for (auto p :
         {store::sync_policy::always, store::sync_policy::batch, store::sync_policy::none}) {
        const auto back = store::parse_sync_policy(store::to_string(p));
        BOOST_REQUIRE(back.has_value());
        BOOST_TEST((*back == p));
    }
    BOOST_TEST(std::string(store::to_string(store::sync_policy::batch)) == "batch");
}

BOOST_AUTO_TEST_CASE(unknown_names_are_refused) {
    BOOST_TEST(!store::parse_sync_policy("").has_value());
    BOOST_TEST(!store::parse_sync_policy("Always").has_value());
    BOOST_TEST(!store::parse_sync_policy("fsync").has_value());
    BOOST_TEST(!store::parse_sync_policy("none ").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
