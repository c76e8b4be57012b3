#include "frontend/auth/rsa_key.hpp"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace frontend::auth {
namespace {

// Refuses every passphrase request, so encrypted keys fail instead of
// prompting on the terminal.
int no_passphrase(char*, size_t, size_t*, const OSSL_PARAM[], void*) {
    return 0;
}

}  // namespace

void pkey_deleter::operator()(EVP_PKEY* key) const {
    EVP_PKEY_free(key);
}

pkey_ptr decode_rsa_pem(std::string_view pem, rsa_key_part part, const std::string& source,
                        std::string& error) {
    EVP_PKEY* raw = nullptr;
    const int selection = part == rsa_key_part::private_key ? EVP_PKEY_KEYPAIR : 0;
    OSSL_DECODER_CTX* ctx =
        OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, "RSA", selection, nullptr, nullptr);
    if (!ctx) {
        ERR_clear_error();
        error = source + ": cannot create an OpenSSL key decoder";
        return nullptr;
    }
    OSSL_DECODER_CTX_set_passphrase_cb(ctx, no_passphrase, nullptr);
    const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
    std::size_t len = pem.size();
    const int ok = OSSL_DECODER_from_data(ctx, &data, &len);
    OSSL_DECODER_CTX_free(ctx);
    ERR_clear_error();
    pkey_ptr key(raw);
    if (ok != 1 || !key) {
        error = source + (part == rsa_key_part::private_key
                              ? ": not an unencrypted RSA private key in PEM format"
                              : ": not an RSA key in PEM format (public key, or unencrypted "
                                "private key)");
        return nullptr;
    }
    if (EVP_PKEY_get_bits(key.get()) < min_rsa_bits) {
        error = source + ": RSA key shorter than " + std::to_string(min_rsa_bits) + " bits";
        return nullptr;
    }
    return key;
}

pkey_ptr load_rsa_pem_file(const std::string& path, rsa_key_part part, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        error = path + ": is a directory, not a key file";
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open key file: " + std::strerror(errno);
        return nullptr;
    }
    std::ostringstream contents;
    contents << in.rdbuf();
    return decode_rsa_pem(contents.str(), part, path, error);
}

pkey_ptr rsa_public_half(EVP_PKEY* key, std::string& error) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key, &der);
    if (len <= 0) {
        ERR_clear_error();
        error = "cannot encode the RSA public key";
        return nullptr;
    }
    const unsigned char* p = der;
    pkey_ptr pub(d2i_PUBKEY(nullptr, &p, len));
    OPENSSL_free(der);
    if (!pub) {
        ERR_clear_error();
        error = "cannot decode the RSA public key";
    }
    return pub;
}

}  // namespace frontend::auth
