// Reloading credentials (SIGHUP): auth::reloadable swaps the authenticator
// CONNECTs are checked against, and auth::from_options reads the password
// file and RSA key anew each time it is called, failing with a message that
// names the file. With --use-identity-as-username and no credential files it
// builds an authenticator that accepts no password at all.
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/config/options.hpp"
#include "frontend/auth/from_options.hpp"
#include "frontend/auth/password_hash.hpp"
#include "frontend/auth/reloadable.hpp"
#include "frontend/auth/rsa_authenticator.hpp"

using frontend::auth::result;

namespace {

// Accepts exactly one username/password pair.
class one_user final : public frontend::auth::authenticator {
  public:
    one_user(std::string user, std::string password)
        : user_(std::move(user)), password_(std::move(password)) {}
    result check(std::optional<std::string_view> username,
                 std::optional<std::string_view> password) const override {
        if (!username || !password) return result::missing_credentials;
        return *username == user_ && *password == password_ ? result::accepted
                                                            : result::bad_credentials;
    }

  private:
    std::string user_, password_;
};

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "auth_reload.XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& contents) const {
        const auto p = path / name;
        std::ofstream(p, std::ios::binary | std::ios::trunc) << contents;
        return p.string();
    }
};

// One "user:$7$..." line of a Mosquitto password file.
std::string password_line(const std::string& user, const std::string& password) {
    std::string error;
    auto hash = frontend::auth::make_pbkdf2_hash(password, error);
    BOOST_REQUIRE_MESSAGE(hash, error);
    return user + ":" + frontend::auth::format_password_hash(*hash) + "\n";
}

frontend::auth::pkey_ptr generate_rsa_512() {
    frontend::auth::pkey_ptr key(EVP_RSA_gen(512));
    BOOST_REQUIRE(key);
    return key;
}

std::string public_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    BOOST_REQUIRE(bio);
    BOOST_REQUIRE(PEM_write_bio_PUBKEY(bio, key) == 1);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return pem;
}

std::string issue(EVP_PKEY* key, std::string_view user) {
    std::string error;
    auto password = frontend::auth::rsa_issue_password(key, user, error);
    BOOST_REQUIRE_MESSAGE(!password.empty(), error);
    return password;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_reload)

BOOST_AUTO_TEST_CASE(reloadable_checks_against_the_current_authenticator) {
    frontend::auth::reloadable auth(std::make_unique<one_user>("alice", "a1"));
    BOOST_TEST((auth.check("alice", "a1") == result::accepted));
    BOOST_TEST((auth.check("bob", "b1") == result::bad_credentials));
    BOOST_TEST((auth.check("alice", std::nullopt) == result::missing_credentials));

    auth.replace(std::make_unique<one_user>("bob", "b1"));
    BOOST_TEST((auth.check("alice", "a1") == result::bad_credentials));
    BOOST_TEST((auth.check("bob", "b1") == result::accepted));
}

BOOST_AUTO_TEST_CASE(replacing_while_another_thread_checks_is_safe) {
    frontend::auth::reloadable auth(std::make_unique<one_user>("u", "p"));
    std::atomic<bool> stop{false};
    std::atomic<int> wrong{0};
    std::thread checker([&] {
        while (!stop.load()) {
            // Either generation accepts "u"/"p"; "u"/"q" never.
            if (auth.check("u", "p") != result::accepted) ++wrong;
            if (auth.check("u", "q") != result::bad_credentials) ++wrong;
        }
    });
    for (int i = 0; i < 2000; ++i) auth.replace(std::make_unique<one_user>("u", "p"));
    stop = true;
    checker.join();
    BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_CASE(from_options_reads_the_password_file_anew) {
    temp_dir dir;
    config::frontend_options options;
    options.password_file =
        dir.write("passwd", password_line("alice", "alicepw") + password_line("bob", "bobpw"));
    frontend::auth::reloadable auth(frontend::auth::from_options(options));
    BOOST_TEST((auth.check("alice", "alicepw") == result::accepted));
    BOOST_TEST((auth.check("bob", "bobpw") == result::accepted));

    // bob removed, alice's password changed, carol added.
    dir.write("passwd", password_line("alice", "newpw") + password_line("carol", "carolpw"));
    BOOST_TEST((auth.check("carol", "carolpw") == result::bad_credentials));  // not yet
    auth.replace(frontend::auth::from_options(options));
    BOOST_TEST((auth.check("alice", "alicepw") == result::bad_credentials));
    BOOST_TEST((auth.check("alice", "newpw") == result::accepted));
    BOOST_TEST((auth.check("bob", "bobpw") == result::bad_credentials));
    BOOST_TEST((auth.check("carol", "carolpw") == result::accepted));
}

BOOST_AUTO_TEST_CASE(from_options_errors_name_the_file_and_the_old_credentials_stay) {
    temp_dir dir;
    config::frontend_options options;
    options.password_file = dir.write("passwd", password_line("alice", "alicepw"));
    frontend::auth::reloadable auth(frontend::auth::from_options(options));

    dir.write("passwd", "alice:$7$not-a-hash\n");
    try {
        auth.replace(frontend::auth::from_options(options));
        BOOST_FAIL("a broken password file was loaded");
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.starts_with("--password-file: " + options.password_file + ":1: "), what);
    }
    BOOST_TEST((auth.check("alice", "alicepw") == result::accepted));

    std::filesystem::remove(options.password_file);
    BOOST_CHECK_THROW(frontend::auth::from_options(options), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(from_options_reads_the_rsa_key_anew) {
    temp_dir dir;
    auto first = generate_rsa_512();
    auto second = generate_rsa_512();
    config::frontend_options options;
    options.rsa_key = dir.write("rsa.pub.pem", public_pem(first.get()));
    frontend::auth::reloadable auth(frontend::auth::from_options(options));
    BOOST_TEST((auth.check("carol", issue(first.get(), "carol")) == result::accepted));

    dir.write("rsa.pub.pem", public_pem(second.get()));  // key rotation
    auth.replace(frontend::auth::from_options(options));
    BOOST_TEST((auth.check("carol", issue(first.get(), "carol")) == result::bad_credentials));
    BOOST_TEST((auth.check("carol", issue(second.get(), "carol")) == result::accepted));

    dir.write("rsa.pub.pem", "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n");
    try {
        (void)frontend::auth::from_options(options);
        BOOST_FAIL("a broken RSA key was loaded");
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        BOOST_TEST(what.starts_with("--rsa-key: "), what);
        BOOST_TEST(what.find(options.rsa_key) != std::string::npos, what);
    }
}

BOOST_AUTO_TEST_CASE(certificates_only_accepts_no_password) {
    config::frontend_options options;
    BOOST_CHECK_THROW(frontend::auth::from_options(options), std::runtime_error);
    options.use_identity_as_username = true;
    auto auth = frontend::auth::from_options(options);
    BOOST_TEST((auth->check("alice", "alicepw") == result::bad_credentials));
    BOOST_TEST((auth->check(std::nullopt, std::nullopt) == result::missing_credentials));
}

BOOST_AUTO_TEST_SUITE_END()
