// Unit tests for --acl-file in common/config: which programs take it, that
// the file is parsed at start-up (a bad line is one error naming FILE:LINE,
// exit status 2), and that it comes from a config file like any option.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/options.hpp"
#include "tests/unit/config_test_support.hpp"

namespace fs = std::filesystem;
using config::program;

using config_test::fails;
using config_test::run;
using temp_files = config_test::temp_dir;

BOOST_AUTO_TEST_SUITE(config_acl_file)

BOOST_AUTO_TEST_CASE(a_valid_file_is_kept_for_the_router) {
    temp_files t;
    const auto acl = t.write("ok.acl", "user alice\ntopic read a/#\n");
    const auto r = run(program::router, {"--acl-file", acl});
    BOOST_TEST_REQUIRE(r.opts.has_value(), r.message);
    BOOST_TEST(r.opts->router.acl_file == acl);

    const auto none = run(program::router, {});
    BOOST_TEST_REQUIRE(none.opts.has_value(), none.message);
    BOOST_TEST(none.opts->router.acl_file.empty());
}

BOOST_AUTO_TEST_CASE(a_bad_line_stops_the_start_naming_file_and_line) {
    temp_files t;
    const auto acl = t.write("bad.acl", "# rules\nuser alice\ntopic read a/#/b\n");
    const auto r = run(program::router, {"--acl-file", acl});
    BOOST_TEST(!r.opts.has_value());
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.message == "--acl-file " + acl + ":3: 'a/#/b' is not a valid topic filter");

    const auto missing = (t.dir / "missing.acl").string();
    const auto m = run(program::router, {"--acl-file", missing});
    BOOST_TEST(m.message == "--acl-file " + missing + ": no such file");
}

BOOST_AUTO_TEST_CASE(from_a_config_file_and_not_for_frontends) {
    temp_files t;
    const auto acl = t.write("bad.acl", "user\n");
    const auto conf = t.write("router.conf", "acl-file = " + acl + "\n");
    const auto r = run(program::router, {"--config", conf});
    BOOST_TEST(r.message ==
               "config file " + conf + ": line 1: acl-file " + acl + ":1: 'user' needs a username");

    const auto fe = run(program::frontend, {"--acl-file", acl});
    BOOST_TEST(fe.message == "--acl-file: not an option of mqtt-frontend");
}

BOOST_AUTO_TEST_SUITE_END()
