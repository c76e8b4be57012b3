// The header every mqtt-bench PUBLISH payload starts with, so a subscriber
// can tell who sent a message, its place in the sender's sequence and when
// it was (scheduled to be) sent. Big-endian, 25 bytes:
//
//   offset 0   u8   version (1)
//   offset 1   u32  run tag: a random number per run; other runs' messages
//                   (say, queued in a persistent session) are told apart
//   offset 5   u32  publisher index within the run
//   offset 9   u64  sequence number, from 0 per publisher
//   offset 17  u64  send time, nanoseconds since the process's steady-clock
//                   epoch (clock.hpp): publishers and subscribers share a
//                   process, so no wall clock is involved
//
// The rest of the payload (up to --payload bytes) is filler.
//
// Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

struct payload_header {
    std::uint32_t run_tag = 0;
    std::uint32_t publisher = 0;
    std::uint64_t sequence = 0;
    std::uint64_t send_ns = 0;
    bool operator==(const payload_header&) const = default;
};

inline constexpr std::uint8_t payload_version = 1;
inline constexpr std::size_t payload_header_size = 25;

// Replaces `out` with the header followed by filler up to `size` bytes
// (size below payload_header_size is taken as payload_header_size).
void encode_payload(const payload_header& h, std::size_t size, std::string& out);

// False if `bytes` is shorter than the header or of another version.
bool decode_payload(std::string_view bytes, payload_header& h);

}  // namespace bench
