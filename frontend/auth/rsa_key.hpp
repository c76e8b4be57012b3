// Loading RSA keys from PEM for the RSA password scheme (rsa_authenticator
// and mqtt-passwd --rsa). Accepts "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo),
// "BEGIN RSA PUBLIC KEY" (PKCS#1), and unencrypted private keys
// ("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY"). Never prompts for a
// passphrase: encrypted keys are an error.
//
// Free functions with no shared state; safe from any thread. The returned
// pkey_ptr owns its key.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

namespace frontend::auth {

struct pkey_deleter {
    void operator()(EVP_PKEY* key) const;
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

inline constexpr int min_rsa_bits = 512;

enum class rsa_key_part { any, private_key };

// Decodes one PEM RSA key. `source` names the input in errors. With
// rsa_key_part::private_key a public-only PEM is an error.
pkey_ptr decode_rsa_pem(std::string_view pem, rsa_key_part part, const std::string& source,
                        std::string& error);

// Reads `path` and decodes it as above.
pkey_ptr load_rsa_pem_file(const std::string& path, rsa_key_part part, std::string& error);

// A key holding only the public half of `key` (which may be a key pair).
pkey_ptr rsa_public_half(EVP_PKEY* key, std::string& error);

}  // namespace frontend::auth
