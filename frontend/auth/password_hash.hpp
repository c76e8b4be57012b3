// Password hashes in Mosquitto's password-file notation:
//   $7$ITERATIONS$SALT_BASE64$HASH_BASE64  PBKDF2-HMAC-SHA512, 64-byte hash
//                                          (mosquitto_passwd 2.x default)
//   $6$SALT_BASE64$HASH_BASE64             SHA512(password || salt) (1.x)
// Parsing, verifying and creating them; shared by password_file, mqtt-passwd
// and the tests.
//
// Plain values and free functions with no shared state: safe to call from any
// thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frontend::auth {

// mosquitto_passwd 2.0.11: PW_DEFAULT_ITERATIONS 101, SALT_LEN 12.
inline constexpr int default_pbkdf2_iterations = 101;
inline constexpr std::size_t default_salt_size = 12;
inline constexpr std::size_t password_hash_size = 64;  // SHA-512 output

struct password_hash {
    enum class kind { sha512 = 6, sha512_pbkdf2 = 7 };

    kind type = kind::sha512_pbkdf2;
    int iterations = 0;  // sha512_pbkdf2 only
    std::vector<unsigned char> salt;
    std::array<unsigned char, password_hash_size> hash{};
};

// Parses "$7$..." or "$6$...". On failure returns nullopt and sets `error` to a
// short phrase saying what is wrong (no file name or line: callers add them).
std::optional<password_hash> parse_password_hash(std::string_view text, std::string& error);

// Formats `h` back into its "$7$..." / "$6$..." text.
std::string format_password_hash(const password_hash& h);

// Hashing work this thread has done so far in compute_password_hash():
// PBKDF2 iterations (one per $6$ hash) and salt bytes hashed. A counter, not a
// clock, so tests can check that two code paths cost the same work.
struct hashing_work {
    std::uint64_t rounds = 0;
    std::uint64_t salt_bytes = 0;
};
hashing_work hashing_work_on_this_thread();

// Hashes `password` with the type, iterations and salt of `params` into `out`.
// Returns false only when OpenSSL fails.
bool compute_password_hash(const password_hash& params, std::string_view password,
                           std::array<unsigned char, password_hash_size>& out);

// True when `password` hashes to `expected.hash` (compared in constant time).
bool verify_password(const password_hash& expected, std::string_view password);

// A new $7$ hash of `password` with a random salt (RAND_bytes). Returns
// nullopt when OpenSSL fails (then `error` says why).
std::optional<password_hash> make_pbkdf2_hash(std::string_view password, std::string& error,
                                              int iterations = default_pbkdf2_iterations);

}  // namespace frontend::auth
