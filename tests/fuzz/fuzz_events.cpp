// libFuzzer target: events::decode on arbitrary envelopes, as a frontend or
// router decodes what arrives on its ZeroMQ sockets.
//
// Input: the envelope bytes, as they are.
//
// Invariants: decode never throws (libFuzzer reports an escaped exception as
// a crash) and either returns an event with a cleared error or nothing with
// an error of the events category; a decoded event re-encodes to an envelope
// that decodes again, to an event that re-encodes to the same bytes (events
// define no operator==: their canonical encodings are compared); conn_of and
// name_of answer for every decoded event. FUZZ_TRACE=1 prints each decoding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/events/events.hpp"
#include "tests/fuzz/fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    boost::system::error_code ec;
    const auto e = events::decode(input, ec);
    // FUZZ_TRACE=1 prints what each input decoded to (to read a crash or a seed).
    static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;
    if (trace)
        std::fprintf(stderr, "decoded: %s\n", e ? events::name_of(*e) : ec.message().c_str());
    if (!e) {
        FUZZ_CHECK(ec.failed() && ec.category() == events::events_category(),
                   ec.message() + " for " + fuzz::hex(input));
        return 0;
    }
    FUZZ_CHECK(!ec.failed(), ec.message());
    FUZZ_CHECK(events::name_of(*e) != nullptr, "no name");
    (void)events::conn_of(*e);

    const std::string first = events::encode(*e);
    const auto again = events::decode(first, ec);
    FUZZ_CHECK(again && !ec.failed(), std::string(events::name_of(*e)) + " re-encoded as " +
                                          fuzz::hex(first) + " does not decode: " + ec.message() +
                                          "\ninput " + fuzz::hex(input));
    FUZZ_CHECK(again->index() == e->index(), "kind changed");
    FUZZ_CHECK(events::conn_of(*again) == events::conn_of(*e), "conn changed");
    const std::string second = events::encode(*again);
    FUZZ_CHECK(first == second, std::string(events::name_of(*e)) + ": " + fuzz::hex(first) +
                                    "\nthen " + fuzz::hex(second) + "\ninput " + fuzz::hex(input));
    return 0;
}
