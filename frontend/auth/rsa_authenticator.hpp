// The original product's password scheme: a client's password is the hex
// encoding (either case) of its username "encrypted" with the RSA private key,
// i.e. the raw RSA private-key operation over PKCS#1 v1.5 type-1 padding (a
// signature without DigestInfo). A 512-bit key gives 128 hex digits.
// The server holds only the public key and checks by recovering the username
// from the password (EVP_PKEY_verify_recover) and comparing in constant time.
//
// rsa_authenticator owns the public key; immutable after load(), check() may
// run on any number of threads at once (each call makes its own EVP_PKEY_CTX).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "frontend/auth/authenticator.hpp"
#include "frontend/auth/rsa_key.hpp"

namespace frontend::auth {

class rsa_authenticator final : public authenticator {
  public:
    // Loads a PEM public key, or a private key of which only the public half
    // is kept. On failure returns null and sets `error` (one line).
    static std::unique_ptr<rsa_authenticator> load(const std::string& path, std::string& error);

    // Takes the public half of `key` (a public key or a key pair).
    static std::unique_ptr<rsa_authenticator> from_key(EVP_PKEY* key, std::string& error);

    // Bad hex, wrong length or wrong key: bad_credentials.
    result check(std::optional<std::string_view> username,
                 std::optional<std::string_view> password) const override;

  private:
    explicit rsa_authenticator(pkey_ptr public_key);

    pkey_ptr public_key_;
    std::size_t modulus_bytes_;
};

// The password for `username`: upper-case hex of the PKCS#1 v1.5 type-1
// private-key operation (EVP_PKEY_sign, RSA_PKCS1_PADDING, no digest). Same as
//   printf USER | openssl pkeyutl -sign -inkey key.pem -pkeyopt rsa_padding_mode:pkcs1
// Returns "" and sets `error` when the key is not a private RSA key or the
// username is longer than the key allows (modulus bytes - 11).
std::string rsa_issue_password(EVP_PKEY* private_key, std::string_view username,
                               std::string& error);

}  // namespace frontend::auth
