// Topic names and topic filters (MQTT 3.1.1 section 4.7).
//
// Valid filters:     "#", "+", "a/#", "a/+/c", "+/+", "/", "a//b", "a/", "$SYS/#"
// Invalid filters:   "", "a#", "a/#/b", "a+", "a/b+/c", "#/a", filters containing U+0000
// Valid, not matching: "#" and "+/x" never match "$SYS/x" (topics starting with '$'
//                    are only matched by filters whose first level is literal).
//
// Pure code; safe from any thread.
#pragma once

#include <string_view>

namespace mqtt::topic {

// A topic name a client may PUBLISH to: non-empty, no '+' or '#', at most
// 65535 bytes. (UTF-8 validity is checked by the decoder.)
bool valid_name(std::string_view name);

// A topic filter a client may SUBSCRIBE with.
bool valid_filter(std::string_view filter);

// True if `name` matches `filter`. Both must be valid.
bool matches(std::string_view filter, std::string_view name);

}  // namespace mqtt::topic
