// The frontend thread's one read buffer. The TCP and TLS transports read only
// once the socket is readable, straight into this buffer, and hand the bytes
// to the session's handler at once; the connection copies what it keeps (the
// framer's partial packet) before anything else can read. So an idle
// connection holds no read buffer (it was 4 KiB per connection, a fifth of
// what an idle TLS connection cost). WebSocket keeps a buffer per session
// (Beast reads frames into it).
//
// One per thread (thread_local); used only on the io_context's thread.
#pragma once

#include <array>
#include <span>

namespace frontend {

// 16 KiB: one full TLS record per read.
inline std::span<char> shared_read_buffer() {
    thread_local std::array<char, 16 * 1024> buffer;
    return buffer;
}

}  // namespace frontend
