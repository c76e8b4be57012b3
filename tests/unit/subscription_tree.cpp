// The router's subscription index: matching, overlap dedup, replace, pruning, '$' rules.
#include "router/subscription_tree.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/topic/topic.hpp"

using router::subscriber_id;

namespace {

using match_result = std::map<subscriber_id, std::uint8_t>;

// Runs match() and returns its result as a map, checking that no subscriber
// was reported twice.
match_result match(const router::subscription_tree& tree, std::string_view topic) {
    std::vector<std::pair<subscriber_id, std::uint8_t>> out{{999, 9}};  // must be cleared
    tree.match(topic, out);
    match_result result(out.begin(), out.end());
    BOOST_TEST(result.size() == out.size(), "duplicate subscriber for '" << topic << "'");
    return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(subscription_tree)

BOOST_AUTO_TEST_CASE(empty_tree_matches_nothing) {
    router::subscription_tree tree;
    BOOST_TEST(tree.size() == 0u);
    BOOST_TEST(match(tree, "a/b").empty());
    BOOST_TEST(!tree.unsubscribe("a/b", 1));
}

BOOST_AUTO_TEST_CASE(exact_and_wildcard_filters) {
    router::subscription_tree tree;
    BOOST_TEST(tree.subscribe("a/b", 1, 0));
    BOOST_TEST(tree.subscribe("a/+", 2, 1));
    BOOST_TEST(tree.subscribe("a/#", 3, 2));
    BOOST_TEST(tree.subscribe("#", 4, 0));
    BOOST_TEST(tree.subscribe("+/b", 5, 1));
    BOOST_TEST(tree.subscribe("x/y", 6, 1));
    BOOST_TEST(tree.size() == 6u);

    BOOST_TEST((match(tree, "a/b") == match_result{{1, 0}, {2, 1}, {3, 2}, {4, 0}, {5, 1}}));
    BOOST_TEST((match(tree, "a/c") == match_result{{2, 1}, {3, 2}, {4, 0}}));
    BOOST_TEST((match(tree, "a/b/c") == match_result{{3, 2}, {4, 0}}));
    BOOST_TEST((match(tree, "x/y") == match_result{{4, 0}, {6, 1}}));
    BOOST_TEST((match(tree, "q") == match_result{{4, 0}}));
}

BOOST_AUTO_TEST_CASE(overlapping_filters_report_each_subscriber_once_with_max_qos) {
    router::subscription_tree tree;
    tree.subscribe("a/b/c", 7, 0);
    tree.subscribe("a/+/c", 7, 2);
    tree.subscribe("a/#", 7, 1);
    tree.subscribe("#", 7, 0);
    tree.subscribe("+/+/+", 7, 1);
    tree.subscribe("a/#", 8, 1);
    tree.subscribe("a/b/c", 8, 0);
    BOOST_TEST(tree.size() == 7u);

    BOOST_TEST((match(tree, "a/b/c") == match_result{{7, 2}, {8, 1}}));
    BOOST_TEST((match(tree, "a/x/c") == match_result{{7, 2}, {8, 1}}));
    BOOST_TEST((match(tree, "a/b") == match_result{{7, 1}, {8, 1}}));
    BOOST_TEST((match(tree, "z") == match_result{{7, 0}}));
}

BOOST_AUTO_TEST_CASE(resubscribe_replaces_qos) {
    router::subscription_tree tree;
    BOOST_TEST(tree.subscribe("a/b", 1, 0));
    BOOST_TEST(!tree.subscribe("a/b", 1, 2));  // same filter, same subscriber: replaced
    BOOST_TEST(tree.size() == 1u);
    BOOST_TEST((match(tree, "a/b") == match_result{{1, 2}}));
    BOOST_TEST(!tree.subscribe("a/b", 1, 1));  // downgrade too
    BOOST_TEST((match(tree, "a/b") == match_result{{1, 1}}));
    BOOST_TEST(tree.subscribe("a/b", 2, 0));  // another subscriber is new
    BOOST_TEST(tree.size() == 2u);
}

BOOST_AUTO_TEST_CASE(unsubscribe_removes_and_prunes) {
    router::subscription_tree tree;
    tree.subscribe("a/b/c", 1, 1);
    tree.subscribe("a/b/c", 2, 1);
    tree.subscribe("a/+/#", 1, 0);
    tree.subscribe("a", 3, 0);
    BOOST_TEST(tree.size() == 4u);

    BOOST_TEST(!tree.unsubscribe("a/b/c", 9));    // not subscribed
    BOOST_TEST(!tree.unsubscribe("a/b", 1));      // inner node, no subscription there
    BOOST_TEST(!tree.unsubscribe("a/b/c/d", 1));  // path does not exist
    BOOST_TEST(!tree.unsubscribe("a/#", 1));      // '#' is not '+/#'
    BOOST_TEST(tree.size() == 4u);

    BOOST_TEST(tree.unsubscribe("a/b/c", 1));
    BOOST_TEST(!tree.unsubscribe("a/b/c", 1));  // already gone
    BOOST_TEST(tree.size() == 3u);
    BOOST_TEST((match(tree, "a/b/c") == match_result{{1, 0}, {2, 1}}));

    BOOST_TEST(tree.unsubscribe("a/+/#", 1));
    BOOST_TEST((match(tree, "a/b/c") == match_result{{2, 1}}));
    BOOST_TEST(tree.unsubscribe("a/b/c", 2));
    BOOST_TEST(match(tree, "a/b/c").empty());
    BOOST_TEST((match(tree, "a") == match_result{{3, 0}}));  // parent kept: it has a subscriber
    BOOST_TEST(tree.unsubscribe("a", 3));
    BOOST_TEST(tree.size() == 0u);
    BOOST_TEST(tree.empty());

    // After pruning, the same filters can be added again from scratch.
    BOOST_TEST(tree.subscribe("a/b/c", 1, 2));
    BOOST_TEST((match(tree, "a/b/c") == match_result{{1, 2}}));
    BOOST_TEST(tree.size() == 1u);
}

BOOST_AUTO_TEST_CASE(dollar_topics_are_not_matched_by_leading_wildcards) {
    router::subscription_tree tree;
    tree.subscribe("#", 1, 0);
    tree.subscribe("+/broker/load", 2, 0);
    tree.subscribe("+/#", 3, 0);
    tree.subscribe("$SYS/#", 4, 1);
    tree.subscribe("$SYS/broker/+", 5, 2);
    tree.subscribe("$SYS", 6, 0);

    BOOST_TEST((match(tree, "$SYS/broker/load") == match_result{{4, 1}, {5, 2}}));
    BOOST_TEST((match(tree, "$SYS") == match_result{{4, 1}, {6, 0}}));
    BOOST_TEST(match(tree, "$other/x").empty());
    // The same shape without '$' is matched by the wildcards only.
    BOOST_TEST((match(tree, "SYS/broker/load") == match_result{{1, 0}, {2, 0}, {3, 0}}));
}

BOOST_AUTO_TEST_CASE(pound_matches_parent_level) {
    router::subscription_tree tree;
    tree.subscribe("sport/tennis/#", 1, 1);
    tree.subscribe("sport/#", 2, 0);
    BOOST_TEST((match(tree, "sport/tennis") == match_result{{1, 1}, {2, 0}}));
    BOOST_TEST((match(tree, "sport") == match_result{{2, 0}}));
    BOOST_TEST((match(tree, "sport/tennis/player1/ranking") == match_result{{1, 1}, {2, 0}}));
    BOOST_TEST(match(tree, "sports").empty());
}

BOOST_AUTO_TEST_CASE(plus_and_empty_levels) {
    router::subscription_tree tree;
    tree.subscribe("a/+", 1, 0);
    tree.subscribe("+/+", 2, 0);
    tree.subscribe("/+", 3, 0);
    tree.subscribe("a//b", 4, 0);
    tree.subscribe("a/+/b", 5, 0);
    tree.subscribe("+", 6, 0);

    BOOST_TEST((match(tree, "a/") == match_result{{1, 0}, {2, 0}}));  // '+' matches ""
    BOOST_TEST((match(tree, "/") == match_result{{2, 0}, {3, 0}}));
    BOOST_TEST((match(tree, "/x") == match_result{{2, 0}, {3, 0}}));
    BOOST_TEST((match(tree, "a//b") == match_result{{4, 0}, {5, 0}}));
    BOOST_TEST((match(tree, "a/b") == match_result{{1, 0}, {2, 0}}));
    BOOST_TEST((match(tree, "a") == match_result{{6, 0}}));
    BOOST_TEST(match(tree, "a//").empty());
}

BOOST_AUTO_TEST_CASE(many_subscribers) {
    router::subscription_tree tree;
    constexpr subscriber_id n = 5000;
    for (subscriber_id id = 1; id <= n; ++id) {
        BOOST_TEST_REQUIRE(tree.subscribe("sensors/" + std::to_string(id % 50) + "/temp", id, 0));
        BOOST_TEST_REQUIRE(tree.subscribe("sensors/+/temp", id, id % 3));
        if (id % 2 == 0) BOOST_TEST_REQUIRE(tree.subscribe("sensors/#", id, 2));
    }
    BOOST_TEST(tree.size() == n * 2 + n / 2);

    const auto result = match(tree, "sensors/7/temp");
    BOOST_TEST(result.size() == n);
    for (subscriber_id id = 1; id <= n; ++id) {
        const auto expected = id % 2 == 0 ? 2 : id % 3;
        BOOST_TEST_REQUIRE(result.at(id) == expected);
    }

    for (subscriber_id id = 1; id <= n; ++id) {
        BOOST_TEST_REQUIRE(tree.unsubscribe("sensors/+/temp", id));
        BOOST_TEST_REQUIRE(tree.unsubscribe("sensors/" + std::to_string(id % 50) + "/temp", id));
        if (id % 2 == 0) BOOST_TEST_REQUIRE(tree.unsubscribe("sensors/#", id));
    }
    BOOST_TEST(tree.size() == 0u);
    BOOST_TEST(match(tree, "sensors/7/temp").empty());
}

// The tree agrees with mqtt::topic::matches on a grid of filters x topics.
BOOST_AUTO_TEST_CASE(agrees_with_topic_matches) {
    const std::vector<std::string> filters = {
        "#",     "+",     "+/+", "/+",     "+/",     "a", "a/",  "a/#",   "a/+", "a//b",
        "a/+/b", "+/b/#", "/#",  "$SYS/#", "$SYS/+", "$", "+/#", "a/b/c", "/",   "//",
    };
    const std::vector<std::string> topics = {
        "a",  "a/", "a/b",   "a//b", "a/b/c",  "a/x/b", "/",
        "//", "/a", "x/b/y", "$SYS", "$SYS/a", "$",     "b",
    };
    router::subscription_tree tree;
    for (subscriber_id i = 0; i < filters.size(); ++i) {
        BOOST_TEST_REQUIRE(mqtt::topic::valid_filter(filters[i]));
        tree.subscribe(filters[i], i, 0);
    }
    for (const auto& t : topics) {
        match_result expected;
        for (subscriber_id i = 0; i < filters.size(); ++i) {
            if (mqtt::topic::matches(filters[i], t)) expected.emplace(i, 0);
        }
        BOOST_TEST((match(tree, t) == expected), "topic '" << t << "'");
    }
}

BOOST_AUTO_TEST_CASE(very_deep_filter) {
    router::subscription_tree tree;
    std::string deep;
    for (int i = 0; i < 20000; ++i) deep += "x/";
    deep += "#";
    BOOST_TEST(tree.subscribe(deep, 1, 1));
    BOOST_TEST((match(tree, deep.substr(0, deep.size() - 2)) == match_result{{1, 1}}));
    BOOST_TEST(tree.unsubscribe(deep, 1));
    BOOST_TEST(tree.subscribe(deep, 2, 1));  // left in place: destructor must not recurse
}

BOOST_AUTO_TEST_SUITE_END()
