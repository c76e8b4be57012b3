// The identity of a TLS client for --use-identity-as-username: the subject
// common name (CN) of the certificate it presented and OpenSSL verified
// during the handshake against --tls-ca.
//
// A free function over one finished handshake's SSL; no state. Called on the
// frontend's io_context thread by the session glue (session.hpp).
#pragma once

#include <openssl/types.h>

#include <optional>
#include <string>

namespace frontend {

// The first CN of the verified peer certificate's subject, as UTF-8, the
// same one Mosquitto takes. nullopt when there is no certificate, it did not
// verify, or it has no CN, an empty one, or one with an embedded NUL
// (Mosquitto refuses those too).
std::optional<std::string> peer_common_name(const SSL* ssl);

}  // namespace frontend
