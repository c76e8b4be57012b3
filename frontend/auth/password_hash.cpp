#include "frontend/auth/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace frontend::auth {
namespace {

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// Strict standard base64 with padding, as mosquitto_passwd writes it.
std::optional<std::vector<unsigned char>> base64_decode(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
    std::size_t pad = 0;
    if (in.back() == '=') ++pad;
    if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
    for (std::size_t i = 0; i < in.size() - pad; ++i)
        if (!is_base64_char(in[i])) return std::nullopt;
    std::vector<unsigned char> out(in.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) return std::nullopt;
    out.resize(out.size() - pad);
    return out;
}

std::string base64_encode(const unsigned char* data, std::size_t size) {
    std::string out((size + 2) / 3 * 4 + 1, '\0');  // + NUL written by OpenSSL
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Splits "a$b$c" into fields; returns the number found (at most max_fields).
std::size_t split_dollar(std::string_view s, std::string_view* fields, std::size_t max_fields) {
    std::size_t count = 0;
    while (count < max_fields) {
        const auto pos = s.find('$');
        fields[count++] = s.substr(0, pos);
        if (pos == std::string_view::npos) return count;
        s.remove_prefix(pos + 1);
    }
    return max_fields + 1;  // too many fields
}

}  // namespace

std::optional<password_hash> parse_password_hash(std::string_view text, std::string& error) {
    password_hash h;
    std::string_view f[4];
    std::string_view salt_text, hash_text;
    if (text.starts_with("$7$")) {
        const auto n = split_dollar(text.substr(3), f, 3);
        if (n != 3) {
            error = "$7$ hash must be $7$ITERATIONS$SALT$HASH";
            return std::nullopt;
        }
        int iterations = 0;
        const auto [end, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), iterations);
        if (f[0].empty() || ec != std::errc{} || end != f[0].data() + f[0].size() ||
            iterations < 1) {
            error = "bad iteration count '" + std::string(f[0]) + "'";
            return std::nullopt;
        }
        h.type = password_hash::kind::sha512_pbkdf2;
        h.iterations = iterations;
        salt_text = f[1];
        hash_text = f[2];
    } else if (text.starts_with("$6$")) {
        const auto n = split_dollar(text.substr(3), f, 2);
        if (n != 2) {
            error = "$6$ hash must be $6$SALT$HASH";
            return std::nullopt;
        }
        h.type = password_hash::kind::sha512;
        salt_text = f[0];
        hash_text = f[1];
    } else {
        error = "unsupported hash format (expected $7$ or $6$)";
        return std::nullopt;
    }
    auto salt = base64_decode(salt_text);
    if (!salt) {
        error = "salt is not valid base64";
        return std::nullopt;
    }
    auto hash = base64_decode(hash_text);
    if (!hash) {
        error = "hash is not valid base64";
        return std::nullopt;
    }
    if (hash->size() != password_hash_size) {
        error = "hash is " + std::to_string(hash->size()) + " bytes, expected 64";
        return std::nullopt;
    }
    h.salt = std::move(*salt);
    std::copy(hash->begin(), hash->end(), h.hash.begin());
    return h;
}

std::string format_password_hash(const password_hash& h) {
    std::string out = h.type == password_hash::kind::sha512_pbkdf2
                          ? "$7$" + std::to_string(h.iterations) + "$"
                          : std::string("$6$");
    out += base64_encode(h.salt.data(), h.salt.size());
    out += '$';
    out += base64_encode(h.hash.data(), h.hash.size());
    return out;
}

namespace {
thread_local hashing_work work_on_this_thread;
}  // namespace

hashing_work hashing_work_on_this_thread() {
    return work_on_this_thread;
}

bool compute_password_hash(const password_hash& params, std::string_view password,
                           std::array<unsigned char, password_hash_size>& out) {
    if (password.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
    work_on_this_thread.rounds += params.type == password_hash::kind::sha512_pbkdf2
                                      ? static_cast<std::uint64_t>(std::max(params.iterations, 0))
                                      : 1;
    work_on_this_thread.salt_bytes += params.salt.size();
    if (params.type == password_hash::kind::sha512_pbkdf2) {
        const int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                         params.salt.data(), static_cast<int>(params.salt.size()),
                                         params.iterations, EVP_sha512(),
                                         static_cast<int>(out.size()), out.data());
        if (ok != 1) ERR_clear_error();
        return ok == 1;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    const bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
                    EVP_DigestUpdate(ctx, params.salt.data(), params.salt.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
    EVP_MD_CTX_free(ctx);
    if (!ok) ERR_clear_error();
    return ok;
}

bool verify_password(const password_hash& expected, std::string_view password) {
    std::array<unsigned char, password_hash_size> actual{};
    if (!compute_password_hash(expected, password, actual)) return false;
    const bool equal = CRYPTO_memcmp(actual.data(), expected.hash.data(), actual.size()) == 0;
    OPENSSL_cleanse(actual.data(), actual.size());
    return equal;
}

std::optional<password_hash> make_pbkdf2_hash(std::string_view password, std::string& error,
                                              int iterations) {
    password_hash h;
    h.type = password_hash::kind::sha512_pbkdf2;
    h.iterations = iterations;
    h.salt.resize(default_salt_size);
    if (iterations < 1) {
        error = "iteration count must be at least 1";
        return std::nullopt;
    }
    if (RAND_bytes(h.salt.data(), static_cast<int>(h.salt.size())) != 1) {
        ERR_clear_error();
        error = "RAND_bytes failed";
        return std::nullopt;
    }
    if (!compute_password_hash(h, password, h.hash)) {
        error = "PBKDF2 failed";
        return std::nullopt;
    }
    return h;
}

}  // namespace frontend::auth
