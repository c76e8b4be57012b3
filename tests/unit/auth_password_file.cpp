// password_file and password_hash: Mosquitto password files, checked against
// vectors made by Debian's real mosquitto_passwd (2.0.11-1.2+deb12u2).

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "frontend/auth/password_file.hpp"
#include "frontend/auth/password_hash.hpp"

using frontend::auth::password_file;
using frontend::auth::password_hash;
using frontend::auth::result;

namespace {

// Made with:  mosquitto_passwd -c -b pw alice 'correct horse'
const std::string alice_line =
    "alice:$7$101$c+pSYZfjH3JMyf3X$f6QTZib2u2qvoUr62OxiYiaSKvcpWnBdS/mLEfdpsor0WurjEw3vPbmhRrO3yP"
    "lJlurufIC9Qqi0auH9nBY5kQ==";

// Made with:  mosquitto_passwd -H sha512 -b pw bob 'battery staple'
// Cross-checked with:
//   printf 'battery staple' | cat - <(echo JIEPcsVX9wM4oxWT | base64 -d) |
//     openssl dgst -sha512 -binary | base64 -w0
const std::string bob_line =
    "bob:$6$JIEPcsVX9wM4oxWT$dLqwP9NXswQJZl9R0ChANLYQ5jepIpkh8ixjoE/InaobwZN2PRYs17aH482I2nB99p5B"
    "42d6/w3bkCbpDYiHdg==";

// A file in a fresh temporary directory, removed with the fixture.
struct temp_file {
    std::filesystem::path dir;
    std::filesystem::path path;

    explicit temp_file(const std::string& contents) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "auth_pwfile.XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        path = dir / "passwd";
        std::ofstream(path, std::ios::binary) << contents;
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

std::unique_ptr<password_file> parse_ok(const std::string& contents) {
    std::string error;
    auto file = password_file::parse(contents, "passwd", error);
    BOOST_TEST_INFO("error: " << error);
    BOOST_REQUIRE(file);
    return file;
}

std::string parse_error(const std::string& contents) {
    std::string error;
    auto file = password_file::parse(contents, "passwd", error);
    BOOST_CHECK(!file);
    return error;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_password_file)

BOOST_AUTO_TEST_CASE(mosquitto_pbkdf2_vector_accepts_right_password_only) {
    auto file = parse_ok(alice_line + "\n");
    BOOST_TEST((file->check("alice", "correct horse") == result::accepted));
    BOOST_TEST((file->check("alice", "correct horsf") == result::bad_credentials));
    BOOST_TEST((file->check("alice", "correct horse ") == result::bad_credentials));
    BOOST_TEST((file->check("alice", "") == result::bad_credentials));
}

BOOST_AUTO_TEST_CASE(mosquitto_sha512_vector_accepts_right_password_only) {
    auto file = parse_ok(bob_line + "\n");
    BOOST_TEST((file->check("bob", "battery staple") == result::accepted));
    BOOST_TEST((file->check("bob", "battery stapler") == result::bad_credentials));
}

BOOST_AUTO_TEST_CASE(load_reads_mixed_file_with_comments_blanks_and_crlf) {
    temp_file f("# users\r\n\r\n" + alice_line + "\r\n   \n" + bob_line);  // no final newline
    std::string error;
    auto file = password_file::load(f.path.string(), error);
    BOOST_TEST_INFO("error: " << error);
    BOOST_REQUIRE(file);
    BOOST_TEST(file->size() == 2u);
    BOOST_TEST((file->check("alice", "correct horse") == result::accepted));
    BOOST_TEST((file->check("bob", "battery staple") == result::accepted));
    // Passwords are not interchangeable between users.
    BOOST_TEST((file->check("alice", "battery staple") == result::bad_credentials));
    BOOST_TEST((file->check("bob", "correct horse") == result::bad_credentials));
}

BOOST_AUTO_TEST_CASE(blanks_around_user_and_hash_are_trimmed) {
    auto file = parse_ok("  alice :\t" + alice_line.substr(6) + "  \n");
    BOOST_TEST((file->check("alice", "correct horse") == result::accepted));
    BOOST_TEST((file->check(" alice ", "correct horse") == result::bad_credentials));
}

BOOST_AUTO_TEST_CASE(missing_credentials) {
    auto file = parse_ok(alice_line + "\n");
    BOOST_TEST((file->check(std::nullopt, "correct horse") == result::missing_credentials));
    BOOST_TEST((file->check("alice", std::nullopt) == result::missing_credentials));
    BOOST_TEST((file->check(std::nullopt, std::nullopt) == result::missing_credentials));
}

BOOST_AUTO_TEST_CASE(unknown_user_is_bad_credentials) {
    auto file = parse_ok(alice_line + "\n" + bob_line + "\n");
    BOOST_TEST((file->check("carol", "correct horse") == result::bad_credentials));
    BOOST_TEST((file->check("", "correct horse") == result::bad_credentials));
    BOOST_TEST((file->check("Alice", "correct horse") == result::bad_credentials));

    auto empty = parse_ok("# nobody here\n");
    BOOST_TEST(empty->size() == 0u);
    BOOST_TEST((empty->check("alice", "correct horse") == result::bad_credentials));
}

BOOST_AUTO_TEST_CASE(unknown_user_costs_as_much_hashing_as_a_known_one) {
    // Counted work, not time: the decoy hashed for an unknown user must do the
    // same PBKDF2 rounds over the same salt length as a real entry, or a login
    // attempt's duration tells which user names exist.
    std::string error;
    auto hash = frontend::auth::make_pbkdf2_hash("secret", error, 2500);
    BOOST_REQUIRE(hash);
    auto file = parse_ok("dave:" + frontend::auth::format_password_hash(*hash) + "\n");

    // The hashing work of one failed check of `user` against `f`.
    const auto work_of = [](const frontend::auth::password_file& f, const char* user) {
        const auto before = frontend::auth::hashing_work_on_this_thread();
        BOOST_TEST((f.check(user, "wrong") == result::bad_credentials));
        const auto after = frontend::auth::hashing_work_on_this_thread();
        return frontend::auth::hashing_work{after.rounds - before.rounds,
                                            after.salt_bytes - before.salt_bytes};
    };
    const auto known = work_of(*file, "dave");
    const auto unknown = work_of(*file, "nobody");
    BOOST_TEST(known.rounds == 2500u);
    BOOST_TEST(known.salt_bytes == frontend::auth::default_salt_size);
    BOOST_TEST(unknown.rounds == known.rounds);
    BOOST_TEST(unknown.salt_bytes == known.salt_bytes);

    // A $6$ file: one SHA-512 per check, for unknown users too.
    auto sha = parse_ok(bob_line + "\n");
    BOOST_TEST(work_of(*sha, "nobody").rounds == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_errors_naming_file_and_line) {
    const std::string ok = alice_line + "\n";
    BOOST_TEST(parse_error(ok + "# fine\n\nno-colon-here\n") == "passwd:4: expected user:hash");
    BOOST_TEST(parse_error(":" + alice_line.substr(6) + "\n") == "passwd:1: empty user name");
    BOOST_TEST(parse_error(ok + "carol:\n") == "passwd:2: empty hash for user 'carol'");
    BOOST_TEST(parse_error(ok + "carol:plaintext\n") ==
               "passwd:2: unsupported hash format (expected $7$ or $6$)");
    BOOST_TEST(parse_error(ok + "carol:$7$abc$c+pSYZfjH3JMyf3X$AAAA\n") ==
               "passwd:2: bad iteration count 'abc'");
    BOOST_TEST(parse_error(ok + "carol:$7$0$c+pSYZfjH3JMyf3X$AAAA\n") ==
               "passwd:2: bad iteration count '0'");
    BOOST_TEST(parse_error(ok + "carol:$7$101$c+pSYZfjH3JMyf3X\n") ==
               "passwd:2: $7$ hash must be $7$ITERATIONS$SALT$HASH");
    BOOST_TEST(parse_error(ok + "carol:$6$a$b$c\n") == "passwd:2: $6$ hash must be $6$SALT$HASH");
    BOOST_TEST(parse_error(ok + "carol:$7$101$not*base64$AAAA\n") ==
               "passwd:2: salt is not valid base64");
    BOOST_TEST(parse_error(ok + "carol:$6$c+pSYZfjH3JMyf3X$AAA\n") ==
               "passwd:2: hash is not valid base64");
    // 48 base64 characters: a 36-byte hash, not SHA-512's 64.
    BOOST_TEST(parse_error(ok + "carol:$6$c+pSYZfjH3JMyf3X$" + std::string(48, 'A') + "\n") ==
               "passwd:2: hash is 36 bytes, expected 64");
    BOOST_TEST(parse_error(ok + alice_line + "\n") == "passwd:2: duplicate user 'alice'");
}

BOOST_AUTO_TEST_CASE(load_errors_name_the_file) {
    std::string error;
    BOOST_TEST(!password_file::load("/nonexistent/dir/passwd", error));
    BOOST_TEST(error.find("/nonexistent/dir/passwd") == 0u);

    temp_file f(alice_line + "\nbroken\n");
    BOOST_TEST(!password_file::load(f.path.string(), error));
    BOOST_TEST(error == f.path.string() + ":2: expected user:hash");

    BOOST_TEST(!password_file::load(f.dir.string(), error));
    BOOST_TEST(error.find(f.dir.string()) == 0u);
}

BOOST_AUTO_TEST_CASE(parsed_hash_formats_back_to_the_same_text) {
    std::string error;
    for (const auto& line : {alice_line, bob_line}) {
        const auto text = line.substr(line.find(':') + 1);
        auto h = frontend::auth::parse_password_hash(text, error);
        BOOST_REQUIRE(h);
        BOOST_TEST(frontend::auth::format_password_hash(*h) == text);
        BOOST_TEST(h->salt.size() == 12u);
    }
}

BOOST_AUTO_TEST_CASE(new_pbkdf2_hash_has_mosquitto_defaults_and_verifies) {
    std::string error;
    auto h = frontend::auth::make_pbkdf2_hash("s3cret", error);
    BOOST_REQUIRE(h);
    BOOST_TEST((h->type == password_hash::kind::sha512_pbkdf2));
    BOOST_TEST(h->iterations == 101);
    BOOST_TEST(h->salt.size() == 12u);
    const auto text = frontend::auth::format_password_hash(*h);
    // "$7$101$" + 16 base64 chars of salt + "$" + 88 base64 chars of hash
    BOOST_TEST(text.size() == 7u + 16u + 1u + 88u);
    BOOST_TEST(text.starts_with("$7$101$"));

    auto file = parse_ok("erin:" + text + "\n");
    BOOST_TEST((file->check("erin", "s3cret") == result::accepted));
    BOOST_TEST((file->check("erin", "s3creT") == result::bad_credentials));

    // Salts are random: the same password hashes differently each time.
    auto again = frontend::auth::make_pbkdf2_hash("s3cret", error);
    BOOST_REQUIRE(again);
    BOOST_TEST(frontend::auth::format_password_hash(*again) != text);
}

BOOST_AUTO_TEST_SUITE_END()
