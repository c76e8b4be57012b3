// The OpenSSL BIO under tls_transport: reads and writes a non-blocking
// socket like OpenSSL's own socket BIO, and also remembers whether its last
// read emptied the socket (fewer bytes than asked for, or EAGAIN). With
// read-ahead on, OpenSSL asks for a whole record buffer per read, so one
// recv() takes in everything that has arrived; when it came back short,
// asking again would only return EAGAIN, and tls_transport waits for the
// socket instead. That is one recv() per readable socket instead of three
// (header, body, EAGAIN) on this paravirtualised machine, where a system
// call costs more than a small TLS record's decryption.
//
// The state lives in the transport (socket_bio_state), which outlives its SSL
// object; the BIO only points to it. The descriptor is read from the socket
// at every call, so after the socket is closed OpenSSL gets EBADF and never
// touches a number that may belong to another connection. Used only on the
// frontend's io_context thread.
#pragma once

#include <openssl/bio.h>

#include "frontend/net/tcp_socket.hpp"

namespace frontend {

struct socket_bio_state {
    tcp_socket* socket = nullptr;
    bool drained = false;  // the last read found the socket empty
    bool eof = false;      // the peer closed its side
};

// A new BIO over `state` (not owned); nullptr if OpenSSL fails to allocate.
BIO* new_socket_bio(socket_bio_state& state);

}  // namespace frontend
