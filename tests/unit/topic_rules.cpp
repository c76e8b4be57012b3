// Topic name / filter validation and matching (MQTT 3.1.1 section 4.7), table-driven.
#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>

#include "common/topic/topic.hpp"

using namespace std::string_view_literals;
namespace topic = mqtt::topic;

namespace {

struct pair_case {
    std::string_view filter;
    std::string_view name;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(topic_rules)

BOOST_AUTO_TEST_CASE(valid_names) {
    const std::string_view cases[] = {
        "a",
        "a/b/c",
        "/",
        "/a",
        "a/",
        "a//b",
        "//",
        "$SYS/broker/load",
        "$",
        " ",
        "sport/tennis/player1",
        "caf\xc3\xa9/\xe2\x82\xac",
        "a b/c-d_e.f",
    };
    for (auto name : cases) BOOST_TEST(topic::valid_name(name), "'" << name << "'");
    BOOST_TEST(topic::valid_name(std::string(65535, 'x')));
}

BOOST_AUTO_TEST_CASE(invalid_names) {
    const std::string_view cases[] = {
        "", "+", "#", "a/+", "a/#", "a+", "a#b", "sport/tennis/#", "+/a", "a\0b"sv, "\0"sv,
    };
    for (auto name : cases) BOOST_TEST(!topic::valid_name(name), "'" << name << "'");
    BOOST_TEST(!topic::valid_name(std::string(65536, 'x')));
}

BOOST_AUTO_TEST_CASE(valid_filters) {
    const std::string_view cases[] = {
        "#",       "+",   "a/#",    "a/+/c",    "+/+", "/",
        "a//b",    "a/",  "$SYS/#", "/#",       "+/#", "/+",
        "+/",      "a/b", "+/+/+",  "$SYS/+/x", "//#", "sport/tennis/player1/#",
        "a/+/+/#",
    };
    for (auto filter : cases) BOOST_TEST(topic::valid_filter(filter), "'" << filter << "'");
    BOOST_TEST(topic::valid_filter(std::string(65535, 'x')));
    std::string deep;
    for (int i = 0; i < 1000; ++i) deep += "+/";
    deep += "#";
    BOOST_TEST(topic::valid_filter(deep));
}

BOOST_AUTO_TEST_CASE(invalid_filters) {
    const std::string_view cases[] = {
        "",     "a#", "a/#/b", "a+",   "a/b+/c",        "#/a",    "##",     "++",     "+a",
        "a/+b", "#/", "#/#",   "a/#/", "sport/tennis#", "sport+", "a\0b"sv, "+/\0"sv,
    };
    for (auto filter : cases) BOOST_TEST(!topic::valid_filter(filter), "'" << filter << "'");
    BOOST_TEST(!topic::valid_filter(std::string(65536, 'x')));
}

BOOST_AUTO_TEST_CASE(matching_pairs) {
    const pair_case cases[] = {
        {"#", "a"},
        {"#", "a/b/c"},
        {"#", "/"},
        {"#", "/a"},
        {"a/#", "a"},  // '#' also matches the parent level
        {"a/#", "a/b"},
        {"a/#", "a/b/c"},
        {"a/#", "a/"},
        {"a/#", "a//"},
        {"a/+", "a/b"},
        {"a/+", "a/"},  // '+' matches an empty level
        {"+", "a"},
        {"+", ""},  // not a valid name, but matching itself is well defined
        {"+/+", "/"},
        {"+/+", "a/b"},
        {"/+", "/a"},
        {"+/a", "/a"},
        {"a/+/c", "a/b/c"},
        {"a/+/c", "a//c"},
        {"a//b", "a//b"},
        {"a/", "a/"},
        {"/a", "/a"},
        {"+/+/#", "a/b"},
        {"a/b", "a/b"},
        {"$SYS/#", "$SYS"},
        {"$SYS/#", "$SYS/broker/load"},
        {"$SYS/+/load", "$SYS/broker/load"},
        {"$", "$"},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking"},
        {"sport/+/player1", "sport/tennis/player1"},
    };
    for (const auto& c : cases) {
        BOOST_TEST(topic::matches(c.filter, c.name), "'" << c.filter << "' ~ '" << c.name << "'");
    }
}

BOOST_AUTO_TEST_CASE(valid_but_non_matching_pairs) {
    const pair_case cases[] = {
        {"#", "$SYS"},
        {"#", "$SYS/broker"},
        {"+/broker", "$SYS/broker"},
        {"+", "$"},
        {"+/#", "$SYS/x"},
        {"a/+", "a"},  // '+' needs a level to be present
        {"a/+", "a/b/c"},
        {"+", "a/b"},
        {"+", "/a"},  // two levels: "" and "a"
        {"+/+", "a"},
        {"a/b", "a/b/"},
        {"a/b/", "a/b"},
        {"/a", "a"},
        {"a", "/a"},
        {"a//b", "a/b"},
        {"a/b", "A/b"},  // case sensitive
        {"a/+/c", "a/b/d"},
        {"sport/tennis/#", "sport"},
        {"sport/tennis/+", "sport/tennis"},
        {"$SYS/#", "SYS/x"},
        {"$SYS/#", "$sys/x"},
        {"a/b/c", "a/b"},
    };
    for (const auto& c : cases) {
        BOOST_TEST(!topic::matches(c.filter, c.name), "'" << c.filter << "' !~ '" << c.name << "'");
    }
}

// Every filter used by the matching tables is itself valid (matches() requires it).
BOOST_AUTO_TEST_CASE(table_pairs_use_valid_filters) {
    for (auto f : {"#", "a/#", "a/+", "+/+", "/+", "+/a", "a/+/c", "a//b", "a/", "+/+/#", "$SYS/#",
                   "$SYS/+/load", "$", "+/broker", "+/#", "a/b/"}) {
        BOOST_TEST(topic::valid_filter(f), f);
    }
}

BOOST_AUTO_TEST_SUITE_END()
