// UTF-8 validation for MQTT strings (MQTT 3.1.1 section 1.5.3).
//
// Rejects what the spec says a receiver must reject: ill-formed sequences,
// overlong forms, surrogates U+D800..U+DFFF, code points above U+10FFFF, and
// U+0000. Control characters and non-characters are accepted (the spec only
// says they SHOULD NOT appear).
//
// Pure code; safe from any thread.
#pragma once

#include <string_view>

namespace mqtt {

bool valid_utf8(std::string_view s);

}  // namespace mqtt
