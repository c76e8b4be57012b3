// libFuzzer target: the inter-tier event decoder, as a frontend or router
// decodes what arrives on its ZeroMQ sockets. Every input goes through both
// entry points:
//   - events::decode: the bytes as exactly one envelope;
//   - events::decode_batch: the bytes as a ZeroMQ message (envelopes back to
//     back), appended to a vector that already holds an event.
//
// Input: the message bytes, as they are.
//
// Invariants: neither throws (libFuzzer reports an escaped exception as a
// crash). decode returns an event with a cleared error or nothing with an
// error of the events category; a decoded event re-encodes to an envelope
// that decodes again, to an event that re-encodes to the same bytes (events
// define no operator==: their canonical encodings are compared); conn_of and
// name_of answer for every decoded event. decode_batch keeps what was in the
// vector, sets an events-category error or none (none only when it decoded
// at least one envelope), and agrees with decode: the input is one good
// envelope exactly when decode_batch finds one event and no error, and then
// it is the same event. The events a batch gave (all of them, or those before
// the bad envelope) re-encode with encode_to into a batch that decodes
// without error to events that re-encode to the same bytes.
// FUZZ_TRACE=1 prints what each input decoded to.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/events/events.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

bool in_category(const boost::system::error_code& ec) {
    return ec.failed() && ec.category() == events::events_category();
}

// Re-encodes a single decoded event and checks the round trip; returns its
// canonical encoding.
std::string check_round_trip(const events::event& e, std::string_view input) {
    FUZZ_CHECK(events::name_of(e) != nullptr, "no name");
    (void)events::conn_of(e);
    const std::string first = events::encode(e);
    boost::system::error_code ec;
    const auto again = events::decode(first, ec);
    FUZZ_CHECK(again && !ec.failed(), std::string(events::name_of(e)) + " re-encoded as " +
                                          fuzz::hex(first) + " does not decode: " + ec.message() +
                                          "\ninput " + fuzz::hex(input));
    FUZZ_CHECK(again->index() == e.index(), "kind changed");
    FUZZ_CHECK(events::conn_of(*again) == events::conn_of(e), "conn changed");
    const std::string second = events::encode(*again);
    FUZZ_CHECK(first == second, std::string(events::name_of(e)) + ": " + fuzz::hex(first) +
                                    "\nthen " + fuzz::hex(second) + "\ninput " + fuzz::hex(input));
    return first;
}

// decode: the input as one envelope. Returns the canonical encoding of what
// it decoded to, or nothing.
std::optional<std::string> fuzz_decode(std::string_view input, bool trace) {
    boost::system::error_code ec;
    const auto e = events::decode(input, ec);
    if (trace) std::fprintf(stderr, "decode: %s\n", e ? events::name_of(*e) : ec.message().c_str());
    if (!e) {
        FUZZ_CHECK(in_category(ec), ec.message() + " for " + fuzz::hex(input));
        return std::nullopt;
    }
    FUZZ_CHECK(!ec.failed(), ec.message());
    return check_round_trip(*e, input);
}

// decode_batch: the input as one ZeroMQ message.
void fuzz_decode_batch(std::string_view input, const std::optional<std::string>& single,
                       bool trace) {
    // decode_batch appends: an event already in the vector stays first.
    std::vector<events::event> got{events::hello{"x", events::protocol_version, 7}};
    const std::string sentinel = events::encode(got.front());
    boost::system::error_code ec;
    events::decode_batch(input, got, ec);
    FUZZ_CHECK(!got.empty() && events::encode(got.front()) == sentinel,
               "the vector lost its event");
    const std::size_t decoded = got.size() - 1;
    if (trace) {
        std::fprintf(stderr, "decode_batch: %zu event(s), %s:", decoded,
                     ec.failed() ? ec.message().c_str() : "ok");
        for (std::size_t i = 1; i < got.size(); ++i)
            std::fprintf(stderr, " %s", events::name_of(got[i]));
        std::fprintf(stderr, "\n");
    }
    FUZZ_CHECK(!ec.failed() || in_category(ec), ec.message() + " for " + fuzz::hex(input));
    FUZZ_CHECK(ec.failed() || decoded > 0, "no error and no event for " + fuzz::hex(input));

    // One good envelope, and only then, decodes alike through both.
    const bool one_envelope = !ec.failed() && decoded == 1;
    FUZZ_CHECK(one_envelope == single.has_value(),
               std::string("decode ") + (single ? "took" : "refused") + " it, decode_batch gave " +
                   std::to_string(decoded) + " event(s), " + ec.message() + "\ninput " +
                   fuzz::hex(input));

    // What the batch gave re-encodes into a batch of the same events.
    std::string rebuilt;
    for (std::size_t i = 1; i < got.size(); ++i) {
        const std::string one = check_round_trip(got[i], input);
        const std::size_t before = rebuilt.size();
        events::encode_to(got[i], rebuilt);
        FUZZ_CHECK(std::string_view(rebuilt).substr(before) == one,
                   "encode_to and encode differ for " + std::string(events::name_of(got[i])));
    }
    if (one_envelope) FUZZ_CHECK(rebuilt == *single, "decode and decode_batch differ");
    if (decoded == 0) return;
    std::vector<events::event> again;
    events::decode_batch(rebuilt, again, ec);
    FUZZ_CHECK(!ec.failed() && again.size() == decoded,
               "re-encoded batch " + fuzz::hex(rebuilt) + " gave " + std::to_string(again.size()) +
                   " of " + std::to_string(decoded) + " event(s): " + ec.message() + "\ninput " +
                   fuzz::hex(input));
    std::string second;
    for (const auto& e : again) events::encode_to(e, second);
    FUZZ_CHECK(second == rebuilt,
               fuzz::hex(rebuilt) + "\nthen " + fuzz::hex(second) + "\ninput " + fuzz::hex(input));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    static const bool trace = std::getenv("FUZZ_TRACE") != nullptr;
    const auto single = fuzz_decode(input, trace);
    fuzz_decode_batch(input, single, trace);
    return 0;
}
