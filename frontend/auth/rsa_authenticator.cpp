#include "frontend/auth/rsa_authenticator.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <vector>

namespace frontend::auth {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Exactly `bytes` bytes of hex, either case; anything else is nullopt.
std::optional<std::vector<unsigned char>> hex_decode(std::string_view hex, std::size_t bytes) {
    if (hex.size() != bytes * 2) return std::nullopt;
    std::vector<unsigned char> out(bytes);
    for (std::size_t i = 0; i < bytes; ++i) {
        const int hi = hex_value(hex[2 * i]);
        const int lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return out;
}

struct pkey_ctx_deleter {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter>;

}  // namespace

rsa_authenticator::rsa_authenticator(pkey_ptr public_key)
    : public_key_(std::move(public_key)),
      modulus_bytes_(static_cast<std::size_t>(EVP_PKEY_get_size(public_key_.get()))) {}

std::unique_ptr<rsa_authenticator> rsa_authenticator::load(const std::string& path,
                                                           std::string& error) {
    auto key = load_rsa_pem_file(path, rsa_key_part::any, error);
    if (!key) return nullptr;
    auto auth = from_key(key.get(), error);
    if (!auth) error = path + ": " + error;
    return auth;
}

std::unique_ptr<rsa_authenticator> rsa_authenticator::from_key(EVP_PKEY* key, std::string& error) {
    if (!key || !EVP_PKEY_is_a(key, "RSA")) {
        error = "not an RSA key";
        return nullptr;
    }
    auto pub = rsa_public_half(key, error);
    if (!pub) return nullptr;
    return std::unique_ptr<rsa_authenticator>(new rsa_authenticator(std::move(pub)));
}

result rsa_authenticator::check(std::optional<std::string_view> username,
                                std::optional<std::string_view> password) const {
    if (!username || !password) return result::missing_credentials;
    const auto signature = hex_decode(*password, modulus_bytes_);
    if (!signature) return result::bad_credentials;

    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, public_key_.get(), nullptr));
    std::vector<unsigned char> recovered(modulus_bytes_);
    std::size_t recovered_len = recovered.size();
    const bool ok = ctx && EVP_PKEY_verify_recover_init(ctx.get()) == 1 &&
                    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
                    EVP_PKEY_verify_recover(ctx.get(), recovered.data(), &recovered_len,
                                            signature->data(), signature->size()) == 1;
    if (!ok) {
        ERR_clear_error();  // padding/range failures leave errors on this thread's queue
        return result::bad_credentials;
    }
    if (recovered_len != username->size()) return result::bad_credentials;
    const bool equal = CRYPTO_memcmp(recovered.data(), username->data(), recovered_len) == 0;
    return equal ? result::accepted : result::bad_credentials;
}

std::string rsa_issue_password(EVP_PKEY* private_key, std::string_view username,
                               std::string& error) {
    if (!private_key || !EVP_PKEY_is_a(private_key, "RSA")) {
        error = "not an RSA key";
        return {};
    }
    const auto modulus_bytes = static_cast<std::size_t>(EVP_PKEY_get_size(private_key));
    if (username.size() + 11 > modulus_bytes) {
        error = "user name too long for this key (at most " + std::to_string(modulus_bytes - 11) +
                " bytes)";
        return {};
    }
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, private_key, nullptr));
    std::vector<unsigned char> sig(modulus_bytes);
    std::size_t sig_len = sig.size();
    const bool ok = ctx && EVP_PKEY_sign_init(ctx.get()) == 1 &&
                    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1 &&
                    EVP_PKEY_sign(ctx.get(), sig.data(), &sig_len,
                                  reinterpret_cast<const unsigned char*>(username.data()),
                                  username.size()) == 1;
    if (!ok || sig_len != modulus_bytes) {
        ERR_clear_error();
        error = "RSA signing failed (is this a private key?)";
        return {};
    }
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string hex;
    hex.reserve(sig_len * 2);
    for (std::size_t i = 0; i < sig_len; ++i) {
        hex += digits[sig[i] >> 4];
        hex += digits[sig[i] & 0x0f];
    }
    return hex;
}

}  // namespace frontend::auth
