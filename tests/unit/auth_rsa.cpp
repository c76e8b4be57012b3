// rsa_authenticator and rsa_issue_password: the original product's scheme
// (password = hex of the username under the RSA private key, PKCS#1 v1.5
// type-1 padding). Keys are generated here; one fixed vector comes from the
// openssl CLI.
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "frontend/auth/rsa_authenticator.hpp"
#include "frontend/auth/rsa_key.hpp"

using frontend::auth::pkey_ptr;
using frontend::auth::result;
using frontend::auth::rsa_authenticator;
using frontend::auth::rsa_issue_password;

namespace {

// Fixed vector. Made with (the private key was then deleted, never committed):
//   openssl genrsa -traditional -out k512.pem 512
//   openssl rsa -in k512.pem -pubout             -> fixed_spki_pem
//   openssl rsa -in k512.pem -RSAPublicKey_out   -> fixed_pkcs1_pem
//   printf testOne |
//     openssl pkeyutl -sign -inkey k512.pem -pkeyopt rsa_padding_mode:pkcs1 |
//     xxd -p -u | tr -d '\n'                      -> fixed_password
const std::string fixed_spki_pem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALszTr25W4tS0moY+wFfHKHpJakSJh0a\n"
    "KOhK4a4aKlfgKFgtho0Bf/pqGnVDHLuwfsDIdFWHgdlMQZfn2Dz5dW0CAwEAAQ==\n"
    "-----END PUBLIC KEY-----\n";
const std::string fixed_pkcs1_pem =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MEgCQQC7M069uVuLUtJqGPsBXxyh6SWpEiYdGijoSuGuGipX4ChYLYaNAX/6ahp1\n"
    "Qxy7sH7AyHRVh4HZTEGX59g8+XVtAgMBAAE=\n"
    "-----END RSA PUBLIC KEY-----\n";
const std::string fixed_password =
    "43DE7D517DA25FA6602E6CA926739EF0BC5C5CC508D5020601E5F0956F71C1D6"
    "DB1F95C7774CB012EAD8B0DFED896650FD45E97A86004CEED6BA662941B05458";

pkey_ptr generate_rsa(unsigned bits) {
    pkey_ptr key(EVP_RSA_gen(bits));
    BOOST_REQUIRE(key);
    return key;
}

// PEM text of `key`: structure "SubjectPublicKeyInfo" / "type-specific"
// (PKCS#1) / "PrivateKeyInfo" (PKCS#8), selection public or key pair.
std::string to_pem(EVP_PKEY* key, int selection, const char* structure) {
    OSSL_ENCODER_CTX* ctx =
        OSSL_ENCODER_CTX_new_for_pkey(key, selection, "PEM", structure, nullptr);
    BOOST_REQUIRE(ctx);
    unsigned char* data = nullptr;
    std::size_t len = 0;
    const int ok = OSSL_ENCODER_to_data(ctx, &data, &len);
    OSSL_ENCODER_CTX_free(ctx);
    BOOST_REQUIRE(ok == 1);
    std::string pem(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
    return pem;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "auth_rsa.XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& contents) const {
        const auto p = path / name;
        std::ofstream(p, std::ios::binary) << contents;
        return p.string();
    }
};

std::unique_ptr<rsa_authenticator> load_ok(const std::string& path) {
    std::string error;
    auto auth = rsa_authenticator::load(path, error);
    BOOST_TEST_INFO("error: " << error);
    BOOST_REQUIRE(auth);
    return auth;
}

std::unique_ptr<rsa_authenticator> from_key_ok(EVP_PKEY* key) {
    std::string error;
    auto auth = rsa_authenticator::from_key(key, error);
    BOOST_TEST_INFO("error: " << error);
    BOOST_REQUIRE(auth);
    return auth;
}

std::string issue_ok(EVP_PKEY* key, std::string_view user) {
    std::string error;
    auto password = rsa_issue_password(key, user, error);
    BOOST_TEST_INFO("error: " << error);
    BOOST_REQUIRE(!password.empty());
    return password;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_rsa)

BOOST_AUTO_TEST_CASE(fixed_openssl_vector_is_accepted_from_both_public_pem_forms) {
    temp_dir dir;
    for (const auto& pem : {fixed_spki_pem, fixed_pkcs1_pem}) {
        auto auth = load_ok(dir.write("pub.pem", pem));
        BOOST_TEST((auth->check("testOne", fixed_password) == result::accepted));
        BOOST_TEST((auth->check("testOne", lower(fixed_password)) == result::accepted));
        BOOST_TEST((auth->check("testTwo", fixed_password) == result::bad_credentials));
        BOOST_TEST((auth->check("testOn", fixed_password) == result::bad_credentials));
        BOOST_TEST((auth->check("testOne ", fixed_password) == result::bad_credentials));
    }
}

BOOST_AUTO_TEST_CASE(issued_passwords_are_accepted_for_512_and_2048_bit_keys) {
    for (unsigned bits : {512u, 2048u}) {
        BOOST_TEST_CONTEXT("bits " << bits) {
            auto key = generate_rsa(bits);
            auto auth = from_key_ok(key.get());
            const auto password = issue_ok(key.get(), "device-0042");
            BOOST_TEST(password.size() == bits / 4);  // two hex digits per modulus byte
            BOOST_TEST(password.find_first_not_of("0123456789ABCDEF") == std::string::npos);
            // PKCS#1 v1.5 type 1 is deterministic.
            BOOST_TEST(issue_ok(key.get(), "device-0042") == password);
            BOOST_TEST((auth->check("device-0042", password) == result::accepted));
            BOOST_TEST((auth->check("device-0042", lower(password)) == result::accepted));
            BOOST_TEST((auth->check("device-0043", password) == result::bad_credentials));
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_passwords_are_rejected) {
    auto key = generate_rsa(512);
    auto auth = from_key_ok(key.get());
    const std::string user = "testOne";
    const auto good = issue_ok(key.get(), user);
    BOOST_REQUIRE(good.size() == 128u);

    const auto rejected = [&](const std::string& password) {
        BOOST_TEST_INFO("password '" << password << "'");
        BOOST_TEST((auth->check(user, password) == result::bad_credentials));
    };
    for (std::size_t pos : {0u, 63u, 127u}) {  // tampered: one digit changed
        std::string t = good;
        t[pos] = t[pos] == '0' ? '1' : '0';
        rejected(t);
    }
    rejected(good.substr(0, 126));                      // one byte short
    rejected(good.substr(0, 127));                      // odd number of digits
    rejected(good + "00");                              // one byte long
    rejected(good + "0");                               // odd, too long
    rejected("");                                       // empty
    rejected(good.substr(0, 127) + "G");                // not hex
    rejected(" " + good.substr(1));                     // not hex
    rejected(std::string(128, '0'));                    // zero: no valid padding
    rejected(std::string(128, 'F'));                    // larger than the modulus
    rejected(std::string(64, '\0') + good.substr(64));  // NUL bytes
}

BOOST_AUTO_TEST_CASE(password_of_another_key_is_rejected) {
    auto a = generate_rsa(512);
    auto b = generate_rsa(512);
    auto auth_a = from_key_ok(a.get());
    BOOST_TEST((auth_a->check("testOne", issue_ok(b.get(), "testOne")) == result::bad_credentials));
    // A 2048-bit key's password has the wrong length for a 512-bit key.
    auto c = generate_rsa(2048);
    BOOST_TEST((auth_a->check("testOne", issue_ok(c.get(), "testOne")) == result::bad_credentials));
}

BOOST_AUTO_TEST_CASE(missing_credentials) {
    auto key = generate_rsa(512);
    auto auth = from_key_ok(key.get());
    const auto password = issue_ok(key.get(), "testOne");
    BOOST_TEST((auth->check(std::nullopt, password) == result::missing_credentials));
    BOOST_TEST((auth->check("testOne", std::nullopt) == result::missing_credentials));
}

BOOST_AUTO_TEST_CASE(public_and_private_pem_files_load) {
    temp_dir dir;
    auto key = generate_rsa(2048);
    const auto password = issue_ok(key.get(), "sensor/7");
    struct form {
        const char* name;
        int selection;
        const char* structure;
        const char* header;
    };
    const form forms[] = {
        {"spki", EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo", "-----BEGIN PUBLIC KEY-----"},
        {"pkcs1-public", EVP_PKEY_PUBLIC_KEY, "type-specific", "-----BEGIN RSA PUBLIC KEY-----"},
        {"pkcs8", EVP_PKEY_KEYPAIR, "PrivateKeyInfo", "-----BEGIN PRIVATE KEY-----"},
        {"pkcs1-private", EVP_PKEY_KEYPAIR, "type-specific", "-----BEGIN RSA PRIVATE KEY-----"},
    };
    for (const auto& f : forms) {
        BOOST_TEST_CONTEXT(f.name) {
            const auto pem = to_pem(key.get(), f.selection, f.structure);
            BOOST_TEST(pem.starts_with(f.header));
            auto auth = load_ok(dir.write(std::string(f.name) + ".pem", pem));
            BOOST_TEST((auth->check("sensor/7", password) == result::accepted));
        }
    }
}

BOOST_AUTO_TEST_CASE(issuing_needs_a_private_key_and_a_short_enough_name) {
    std::string error;
    auto pub = frontend::auth::decode_rsa_pem(fixed_spki_pem, frontend::auth::rsa_key_part::any,
                                              "fixed", error);
    BOOST_REQUIRE(pub);
    BOOST_TEST(rsa_issue_password(pub.get(), "testOne", error).empty());
    BOOST_TEST(!error.empty());

    // A public PEM is refused where a private key is required.
    error.clear();
    BOOST_TEST(!frontend::auth::decode_rsa_pem(
        fixed_spki_pem, frontend::auth::rsa_key_part::private_key, "fixed", error));
    BOOST_TEST(error.find("fixed: ") == 0u);

    // 512 bits = 64 bytes; PKCS#1 v1.5 padding needs 11, leaving 53.
    auto key = generate_rsa(512);
    auto auth = from_key_ok(key.get());
    const std::string longest(53, 'u');
    BOOST_TEST((auth->check(longest, issue_ok(key.get(), longest)) == result::accepted));
    error.clear();
    BOOST_TEST(rsa_issue_password(key.get(), longest + "u", error).empty());
    BOOST_TEST(error.find("too long") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_key_files_are_load_errors) {
    temp_dir dir;
    std::string error;
    BOOST_TEST(!rsa_authenticator::load((dir.path / "missing.pem").string(), error));
    BOOST_TEST(error.find("missing.pem") != std::string::npos);

    const auto garbage = dir.write("garbage.pem", "-----BEGIN PUBLIC KEY-----\nnope\n");
    BOOST_TEST(!rsa_authenticator::load(garbage, error));
    BOOST_TEST(error.find(garbage + ": ") == 0u);

    pkey_ptr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    BOOST_REQUIRE(ec);
    const auto ec_pem =
        dir.write("ec.pem", to_pem(ec.get(), EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo"));
    BOOST_TEST(!rsa_authenticator::load(ec_pem, error));
    BOOST_TEST(error.find(ec_pem + ": ") == 0u);

    BOOST_TEST(!rsa_authenticator::load(dir.path.string(), error));

    // An encrypted private key is refused without asking for a passphrase.
    auto rsa = generate_rsa(512);
    OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(rsa.get(), EVP_PKEY_KEYPAIR, "PEM",
                                                          "EncryptedPrivateKeyInfo", nullptr);
    BOOST_REQUIRE(ctx);
    const unsigned char passphrase[] = "hunter2";
    BOOST_REQUIRE(OSSL_ENCODER_CTX_set_cipher(ctx, "AES-256-CBC", nullptr) == 1);
    BOOST_REQUIRE(OSSL_ENCODER_CTX_set_passphrase(ctx, passphrase, sizeof passphrase - 1) == 1);
    unsigned char* data = nullptr;
    std::size_t len = 0;
    const int ok = OSSL_ENCODER_to_data(ctx, &data, &len);
    OSSL_ENCODER_CTX_free(ctx);
    BOOST_REQUIRE(ok == 1);
    const std::string encrypted(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
    BOOST_TEST(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    const auto enc_pem = dir.write("encrypted.pem", encrypted);
    BOOST_TEST(!rsa_authenticator::load(enc_pem, error));
    BOOST_TEST(error.find(enc_pem + ": ") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
