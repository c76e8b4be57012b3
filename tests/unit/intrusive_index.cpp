// util::intrusive_index: a map-like hash index over objects that carry their
// own link; it grows its buckets as it fills, keeps keys unique, and leaves
// erased objects unlinked.
#include "common/util/intrusive_index.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace {

struct item {
    std::string name;
    std::uint64_t number = 0;
    util::index_hook by_name, by_number;
};
struct name_of {
    using type = std::string_view;
    std::string_view operator()(const item& i) const { return i.name; }
};
struct number_of {
    using type = std::uint64_t;
    std::uint64_t operator()(const item& i) const { return i.number; }
};
using by_name = util::intrusive_index<item, &item::by_name, name_of, std::hash<std::string_view>>;
using by_number =
    util::intrusive_index<item, &item::by_number, number_of, std::hash<std::uint64_t>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(intrusive_index)

BOOST_AUTO_TEST_CASE(a_link_is_one_pointer) {
    BOOST_TEST(sizeof(util::index_hook) == sizeof(void*));
}

BOOST_AUTO_TEST_CASE(finds_what_was_inserted_through_growth_and_erase) {
    std::deque<item> items;  // stable addresses
    by_name names;
    by_number numbers;
    BOOST_TEST(names.empty());
    BOOST_TEST(!names.find("x"));
    const auto initial = names.bucket_count();
    for (std::uint64_t i = 0; i < 1000; ++i) {
        items.push_back({"client-" + std::to_string(i), i * 7});
        BOOST_TEST(names.insert(items.back()));
        BOOST_TEST(numbers.insert(items.back()));
    }
    BOOST_TEST(names.size() == 1000u);
    BOOST_TEST(names.bucket_count() >= 1000u);  // grew: load factor at most 1
    BOOST_TEST(names.bucket_count() > initial);
    for (std::uint64_t i = 0; i < 1000; ++i) {
        item* by_n = names.find("client-" + std::to_string(i));
        BOOST_REQUIRE(by_n);
        BOOST_TEST(by_n->number == i * 7);
        BOOST_TEST(numbers.find(i * 7) == by_n);
    }
    BOOST_TEST(!numbers.find(3));  // not a multiple of 7

    // Erase every other one from one index: the other index is untouched.
    for (std::uint64_t i = 0; i < 1000; i += 2) names.erase(items[i]);
    BOOST_TEST(names.size() == 500u);
    BOOST_TEST(numbers.size() == 1000u);
    BOOST_TEST(!by_name::linked(items[0]));
    BOOST_TEST(by_name::linked(items[1]));
    BOOST_TEST(by_number::linked(items[0]));
    BOOST_TEST(!names.find("client-0"));
    BOOST_TEST(names.contains("client-1"));

    std::set<std::string> seen;
    for (const auto& i : names) seen.insert(i.name);
    BOOST_TEST(seen.size() == 500u);
    BOOST_TEST(!seen.contains("client-998"));
    BOOST_TEST(seen.contains("client-999"));
    for (auto& i : items) {  // unlink before the items go
        if (by_name::linked(i)) names.erase(i);
        numbers.erase(i);
    }
    BOOST_TEST(names.empty());
    BOOST_TEST(numbers.empty());
}

BOOST_AUTO_TEST_CASE(keys_are_unique_and_a_refused_insert_changes_nothing) {
    item a{"same", 1}, b{"same", 2};
    by_name names;
    BOOST_TEST(names.insert(a));
    BOOST_TEST(!names.insert(b));
    BOOST_TEST(!by_name::linked(b));
    BOOST_TEST(names.size() == 1u);
    BOOST_TEST(names.find("same") == &a);
    names.erase(a);
    BOOST_TEST(names.insert(b));
    BOOST_TEST(names.find("same") == &b);
    names.erase(b);
}

BOOST_AUTO_TEST_CASE(a_copy_of_an_indexed_object_is_not_indexed) {
    item a{"a", 1};
    by_name names;
    names.insert(a);
    item copy = a;
    BOOST_TEST(!by_name::linked(copy));
    BOOST_TEST(names.find("a") == &a);
    names.erase(a);
}

BOOST_AUTO_TEST_SUITE_END()
