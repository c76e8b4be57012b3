// Encodes mqtt::packet values into wire bytes (appended to `out`).
//
// Encoding never fails for packets built by this program; fields are written
// exactly as given (the caller is responsible for valid values).
//
// Pure code; safe from any thread.
#pragma once

#include <string>

#include "common/mqtt/packet.hpp"

namespace mqtt {

void encode(const packet& p, std::string& out);

inline std::string encode(const packet& p) {
    std::string out;
    encode(p, out);
    return out;
}

}  // namespace mqtt
