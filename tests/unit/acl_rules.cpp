// Unit tests for common/acl: parsing Mosquitto's acl_file format (every line
// form, the exact one-line errors naming SOURCE:LINE), and the checks:
// default deny, deny precedence, per-user blocks and the anonymous block,
// patterns with %u / %c (and the usernames / client ids they refuse),
// SUBSCRIBE checked filter against filter, and '$SYS'.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/acl/rules.hpp"

namespace {

acl::rules parsed(std::string_view text) {
    std::string error;
    auto r = acl::rules::parse(text, "acl.conf", error);
    BOOST_TEST_REQUIRE(r.has_value(), "parse failed: " << error);
    return std::move(*r);
}

// The error of text that must not parse.
std::string parse_error(std::string_view text) {
    std::string error;
    auto r = acl::rules::parse(text, "acl.conf", error);
    BOOST_TEST(!r.has_value(), "parsed, but should not have: " << text);
    return error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acl_rules)

// ---- parsing --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_line_form_parses) {
    const auto r = parsed(
        "\xEF\xBB\xBF# a comment (after a UTF-8 BOM)\n"
        "\n"
        "   \t \n"
        "   # an indented comment\n"
        "topic read anon/r\n"
        "topic anon/rw\n"
        "user alice\n"
        "topic write a/w\r\n"  // CRLF
        "topic  readwrite   a/rw  \n"
        "topic deny a/rw/no\n"
        "user  John Smith  \n"  // the rest of the line, trimmed: "John Smith"
        "topic read j/with space\n"
        "pattern write p/%u/%c\n"
        "pattern deny p/x/%c\n"
        "user alice\n"  // a user's block may go on later
        "topic read a/more");
    BOOST_TEST(r.rule_count() == 9u);
    BOOST_TEST(r.user_count() == 2u);
    BOOST_TEST(r.pattern_count() == 2u);

    // The anonymous block: clients without a username only.
    BOOST_TEST(r.may_receive("", "c1", "anon/r"));
    BOOST_TEST(!r.may_publish("", "c1", "anon/r"));
    BOOST_TEST(r.may_publish("", "c1", "anon/rw"));
    BOOST_TEST(r.may_receive("", "c1", "anon/rw"));
    BOOST_TEST(!r.may_receive("alice", "c1", "anon/r"));

    BOOST_TEST(r.may_publish("alice", "c1", "a/w"));
    BOOST_TEST(!r.may_receive("alice", "c1", "a/w"));
    BOOST_TEST(r.may_publish("alice", "c1", "a/rw"));
    BOOST_TEST(r.may_receive("alice", "c1", "a/rw"));
    BOOST_TEST(!r.may_publish("alice", "c1", "a/rw/no"));
    BOOST_TEST(r.may_receive("alice", "c1", "a/more"));
    BOOST_TEST(r.may_receive("John Smith", "c1", "j/with space"));
    BOOST_TEST(!r.may_receive("John", "c1", "j/with space"));
    // Patterns apply to every client, wherever they stand in the file.
    BOOST_TEST(r.may_publish("alice", "c1", "p/alice/c1"));
    BOOST_TEST(!r.may_publish("alice", "c2", "p/alice/c1"));
}

BOOST_AUTO_TEST_CASE(an_empty_file_denies_everything) {
    const auto r = parsed("# nothing granted\n");
    BOOST_TEST(r.rule_count() == 0u);
    BOOST_TEST(!r.may_publish("alice", "c", "a"));
    BOOST_TEST(!r.may_receive("alice", "c", "a"));
    BOOST_TEST(!r.may_subscribe("", "c", "#"));
}

BOOST_AUTO_TEST_CASE(bad_lines_name_source_and_line) {
    BOOST_TEST(parse_error("topic read a\nuser\n") == "acl.conf:2: 'user' needs a username");
    BOOST_TEST(parse_error("topic read a\nuser   \t\n") == "acl.conf:2: 'user' needs a username");
    BOOST_TEST(parse_error("\n\ntopic\n") == "acl.conf:3: 'topic' needs a topic filter");
    BOOST_TEST(parse_error("pattern   \n") == "acl.conf:1: 'pattern' needs a topic filter");
    BOOST_TEST(parse_error("# ok\ntopic rw a/b\n") ==
               "acl.conf:2: unknown access 'rw' (expected read, write, readwrite or deny)");
    BOOST_TEST(parse_error("topic read a/#/b\n") ==
               "acl.conf:1: 'a/#/b' is not a valid topic filter");
    BOOST_TEST(parse_error("topic read a+\n") == "acl.conf:1: 'a+' is not a valid topic filter");
    BOOST_TEST(parse_error("pattern write p/%u#\n") ==
               "acl.conf:1: 'p/%u#' is not a valid topic filter");
    BOOST_TEST(parse_error("topic read a\ntopics read b\n") ==
               "acl.conf:2: unknown keyword 'topics' (expected user, topic or pattern)");
    // No trailing comments in this format: '#' there makes the filter invalid.
    BOOST_TEST(parse_error("topic read a/b # note\n") ==
               "acl.conf:1: 'a/b # note' is not a valid topic filter");
    // Counted in raw lines, CRLF or not.
    BOOST_TEST(parse_error("topic a\r\n\r\nbogus\r\n") ==
               "acl.conf:3: unknown keyword 'bogus' (expected user, topic or pattern)");
}

BOOST_AUTO_TEST_CASE(load_file_names_the_file) {
    namespace fs = std::filesystem;
    std::string pattern = (fs::temp_directory_path() / "acl_rules.XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    const fs::path dir = pattern;
    const auto good = (dir / "good.acl").string();
    const auto bad = (dir / "bad.acl").string();
    std::ofstream(good) << "user alice\ntopic read a/#\n";
    std::ofstream(bad) << "user alice\ntopic read a/#\ntopic sometimes a/#\n";

    std::string error;
    auto r = acl::load_file(good, error);
    BOOST_TEST_REQUIRE(r != nullptr, error);
    BOOST_TEST(r->may_receive("alice", "c", "a/x"));

    BOOST_TEST(acl::load_file(bad, error) == nullptr);
    BOOST_TEST(error ==
               bad + ":3: unknown access 'sometimes' (expected read, write, readwrite or deny)");
    BOOST_TEST(acl::load_file((dir / "missing.acl").string(), error) == nullptr);
    BOOST_TEST(error ==
               (dir / "missing.acl").string() + ": cannot be read: No such file or directory");
    BOOST_TEST(acl::load_file(dir.string(), error) == nullptr);
    BOOST_TEST(error == dir.string() + ": is a directory");
    fs::remove_all(dir);
}

// ---- checks -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(whatever_no_rule_grants_is_denied) {
    const auto r = parsed(
        "user alice\n"
        "topic read r/#\n"
        "topic write w/+\n");
    BOOST_TEST(r.may_receive("alice", "c", "r/x/y"));
    BOOST_TEST(r.may_receive("alice", "c", "r"));  // "r/#" matches its parent level
    BOOST_TEST(!r.may_publish("alice", "c", "r/x"));
    BOOST_TEST(r.may_publish("alice", "c", "w/x"));
    BOOST_TEST(!r.may_publish("alice", "c", "w/x/y"));
    BOOST_TEST(!r.may_receive("alice", "c", "w/x"));
    BOOST_TEST(!r.may_receive("alice", "c", "other"));
    // Another user, and a client without a username: no block, nothing.
    BOOST_TEST(!r.may_receive("bob", "c", "r/x"));
    BOOST_TEST(!r.may_receive("", "c", "r/x"));
}

BOOST_AUTO_TEST_CASE(deny_wins_within_its_kind_wherever_it_stands) {
    const auto r = parsed(
        "user alice\n"
        "topic readwrite a/#\n"
        "topic deny a/secret/#\n"  // after the allow: still checked first
        "pattern readwrite q/%u/#\n"
        "pattern deny q/%u/private\n"
        "pattern deny a/open\n"
        "user bob\n"
        "topic deny q/bob/#\n");
    BOOST_TEST(r.may_receive("alice", "c", "a/x"));
    BOOST_TEST(!r.may_receive("alice", "c", "a/secret"));
    BOOST_TEST(!r.may_publish("alice", "c", "a/secret/x"));  // deny takes read and write
    BOOST_TEST(r.may_publish("alice", "c", "q/alice/x"));
    BOOST_TEST(!r.may_publish("alice", "c", "q/alice/private"));
    // A user's own allow is final before the patterns are consulted (Mosquitto's order)...
    BOOST_TEST(r.may_publish("alice", "c", "a/open"));
    // ...and its own deny beats the patterns' allows.
    BOOST_TEST(!r.may_publish("bob", "c", "q/bob/x"));
    BOOST_TEST(r.may_publish("carol", "c", "q/carol/x"));
}

BOOST_AUTO_TEST_CASE(patterns_substitute_username_and_client_id) {
    const auto r = parsed(
        "pattern readwrite users/%u/#\n"
        "pattern read clients/%c\n"
        "pattern write both/%u/%c\n"
        "pattern read mid/x%cy/z\n");  // substituted wherever it stands (as Mosquitto 2.0)
    BOOST_TEST(r.may_publish("alice", "c1", "users/alice/a/b"));
    BOOST_TEST(r.may_receive("alice", "c1", "users/alice"));
    BOOST_TEST(!r.may_publish("alice", "c1", "users/bob/a"));
    BOOST_TEST(r.may_receive("alice", "c1", "clients/c1"));
    BOOST_TEST(!r.may_receive("alice", "c2", "clients/c1"));
    BOOST_TEST(!r.may_publish("alice", "c1", "clients/c1"));
    BOOST_TEST(r.may_publish("alice", "c1", "both/alice/c1"));
    BOOST_TEST(r.may_receive("alice", "c1", "mid/xc1y/z"));
    // No username: patterns with %u do not apply, the others do.
    BOOST_TEST(!r.may_publish("", "c1", "users//x"));
    BOOST_TEST(r.may_receive("", "c1", "clients/c1"));
    // Patterns are per client: the same rules object answers for each one.
    const auto alice = r.for_client("alice", "c1");
    const auto bob = r.for_client("bob", "c9");
    BOOST_TEST(alice->may_publish("users/alice/1"));
    BOOST_TEST(!alice->may_publish("users/bob/1"));
    BOOST_TEST(bob->may_publish("users/bob/1"));
    BOOST_TEST(bob->may_receive("clients/c9"));
}

BOOST_AUTO_TEST_CASE(dangerous_names_get_no_pattern_rules) {
    const auto r = parsed(
        "pattern readwrite users/%u/#\n"
        "user a/b\n"
        "topic read own/#\n"
        "user x\n"
        "topic read own/#\n");
    // "a/b" would otherwise reach into user "a"'s subtree users/a/b/...
    BOOST_TEST(!r.may_publish("a/b", "c1", "users/a/b/x"));
    BOOST_TEST(!r.may_publish("+", "c1", "users/anyone"));
    BOOST_TEST(!r.may_publish("#", "c1", "users/anyone"));
    // Its own block still applies.
    BOOST_TEST(r.may_receive("a/b", "c1", "own/1"));
    // The client id is not used by any pattern here: it may be anything.
    BOOST_TEST(r.may_publish("x", "dev/1+#", "users/x/1"));

    const auto by_id = parsed("pattern readwrite dev/%c/#\n");
    BOOST_TEST(by_id.may_publish("u", "d1", "dev/d1/t"));
    BOOST_TEST(!by_id.may_publish("u", "d1/x", "dev/d1/x/t"));
    BOOST_TEST(!by_id.may_publish("u", "+", "dev/d1/t"));
    BOOST_TEST(!by_id.may_publish("u", "#", "dev/d1/t"));
    // The username is not used by a pattern: it does not matter.
    BOOST_TEST(by_id.may_publish("u/v", "d1", "dev/d1/t"));
}

BOOST_AUTO_TEST_CASE(subscribe_checks_filter_against_filter) {
    const auto r = parsed(
        "user alice\n"
        "topic read a/#\n"
        "topic read s/+/t\n"
        "topic write w/#\n"
        "topic deny a/secret/#\n"
        "topic deny a/+/hidden\n");
    // Covered by a read rule: granted.
    for (auto f : {"a/#", "a", "a/x", "a/+", "a/+/b", "a/x/#", "s/x/t", "s/+/t"})
        BOOST_TEST(r.may_subscribe("alice", "c", f), f);
    // Wider than every read rule, write-only, or elsewhere: refused.
    for (auto f : {"#", "+/#", "+", "s/#", "s/x/+", "s/+/+", "w/#", "w/x", "b", "a/secret",
                   "a/secret/#", "a/secret/x", "a/x/hidden"})
        BOOST_TEST(!r.may_subscribe("alice", "c", f), f);
    // A deny that covers only part of a granted filter leaves it granted: the
    // topics it denies are filtered at delivery.
    BOOST_TEST(r.may_subscribe("alice", "c", "a/+/#"));
    BOOST_TEST(!r.may_receive("alice", "c", "a/secret/x"));
    BOOST_TEST(!r.may_receive("alice", "c", "a/x/hidden"));
    BOOST_TEST(r.may_receive("alice", "c", "a/x/shown"));

    const auto all = parsed("user root\ntopic read #\n");
    BOOST_TEST(all.may_subscribe("root", "c", "#"));
    BOOST_TEST(all.may_subscribe("root", "c", "+/x/#"));
}

BOOST_AUTO_TEST_CASE(filter_coverage) {
    struct row {
        const char* outer;
        const char* inner;
        bool covered;
    };
    const row rows[] = {
        {"#", "#", true},
        {"#", "a/b", true},
        {"#", "+/+", true},
        {"a/#", "a", true},
        {"a/#", "a/#", true},
        {"a/#", "a/b/+/#", true},
        {"a/#", "#", false},
        {"a/#", "+/b", false},
        {"a/#", "b/#", false},
        {"a/+", "a/b", true},
        {"a/+", "a/+", true},
        {"a/+", "a/#", false},
        {"a/+", "a", false},
        {"a/+", "a/b/c", false},
        {"a/b", "a/+", false},
        {"a/b", "a/b", true},
        {"a/b", "a/b/c", false},
        {"a/b", "a", false},
        {"+/+/#", "a/b", true},
        {"+/+/#", "a/#", false},
        {"a/+/#", "a/b", true},
        {"+", "+", true},
        {"+", "a", true},
        {"+", "#", false},
        {"a//b", "a/+/b", false},
        {"a/+/b", "a//b", true},
        {"/#", "/a", true},
        {"/#", "a", false},
        // '$' topics: only a literal first level names them.
        {"#", "$SYS/#", false},
        {"#", "$SYS", false},
        {"+/#", "$SYS/x", false},
        {"$SYS/#", "$SYS/a/+", true},
        {"$SYS/#", "#", false},
        {"$SYS/+", "$SYS/x", true},
        {"+/x", "$a/x", false},
        {"$a/+", "$a/x", true},
    };
    for (const auto& r : rows)
        BOOST_TEST(acl::covers(r.outer, r.inner) == r.covered,
                   "covers('" << r.outer << "', '" << r.inner << "')");
}

BOOST_AUTO_TEST_CASE(sys_topics) {
    const auto r = parsed(
        "user admin\n"
        "topic readwrite #\n"
        "topic readwrite $SYS/#\n"
        "topic write $SYSTEM/#\n"
        "user watcher\n"
        "topic read $SYS/broker/#\n"
        "user plain\n"
        "topic readwrite #\n");
    // A "#" rule does not reach '$' topics, for reading or subscribing.
    BOOST_TEST(!r.may_receive("plain", "c", "$SYS/broker/uptime"));
    BOOST_TEST(!r.may_subscribe("plain", "c", "$SYS/#"));
    BOOST_TEST(r.may_subscribe("plain", "c", "#"));  // fine: "#" matches no '$' topic
    // A rule naming $SYS grants reading.
    BOOST_TEST(r.may_receive("watcher", "c", "$SYS/broker/uptime"));
    BOOST_TEST(r.may_subscribe("watcher", "c", "$SYS/broker/#"));
    BOOST_TEST(!r.may_subscribe("watcher", "c", "$SYS/#"));
    BOOST_TEST(r.may_receive("admin", "c", "$SYS/broker/uptime"));
    // Clients never write $SYS, whatever the rules say.
    BOOST_TEST(!r.may_publish("admin", "c", "$SYS/broker/uptime"));
    BOOST_TEST(!r.may_publish("admin", "c", "$SYS"));
    BOOST_TEST(r.may_publish("admin", "c", "$SYSTEM/x"));   // another first level, by rule
    BOOST_TEST(!r.may_publish("plain", "c", "$SYSTEM/x"));  // "#" names no '$' topic
    BOOST_TEST(r.may_publish("admin", "c", "x/$SYS"));
}

BOOST_AUTO_TEST_CASE(without_patterns_clients_of_a_user_share_their_rules) {
    const auto r = parsed("user alice\ntopic read a/#\n");
    BOOST_TEST(r.for_client("alice", "c1") == r.for_client("alice", "c2"));
    BOOST_TEST(r.for_client("bob", "c1") == r.for_client("carol", "c2"));
    const auto p = parsed("user alice\ntopic read a/#\npattern read c/%c\n");
    BOOST_TEST(p.for_client("alice", "c1") != p.for_client("alice", "c2"));
}

BOOST_AUTO_TEST_SUITE_END()
