// The one time base of a run: nanoseconds of std::chrono::steady_clock since
// a process-local epoch (the first call). Send times in payloads, schedules
// and receive times all use it, so latency needs no wall clock.
//
// Safe from any thread (the epoch is a function-local static).
#pragma once

#include <chrono>
#include <cstdint>

namespace bench {

inline std::chrono::steady_clock::time_point clock_epoch() {
    static const auto epoch = std::chrono::steady_clock::now();
    return epoch;
}

inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                clock_epoch())
        .count();
}

inline std::chrono::steady_clock::time_point to_time_point(std::int64_t ns) {
    return clock_epoch() + std::chrono::nanoseconds(ns);
}

}  // namespace bench
