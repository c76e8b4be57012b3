// The wall clock as an integer since the Unix epoch: what crosses process
// (and host) boundaries, where steady_clock values mean nothing (the
// received_us of the events, stored expiry deadlines, the HLC). Any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace util {

inline std::uint64_t wall_clock_us() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

inline std::uint64_t wall_clock_ms() {
    return wall_clock_us() / 1000;
}

}  // namespace util
