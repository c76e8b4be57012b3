#include "frontend/net/peer_identity.hpp"

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace frontend {

std::optional<std::string> peer_common_name(const SSL* ssl) {
    if (!ssl) return std::nullopt;
    X509* cert = SSL_get0_peer_certificate(ssl);  // not ours to free
    if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
    const X509_NAME* subject = X509_get_subject_name(cert);
    if (!subject) return std::nullopt;
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0) return std::nullopt;
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    if (!data) return std::nullopt;
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length <= 0) {
        OPENSSL_free(utf8);
        return std::nullopt;
    }
    std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    if (cn.find('\0') != std::string::npos) return std::nullopt;
    return cn;
}

}  // namespace frontend
