// The one snapshot mqtt-broker publishes (kind broker): its frontend's and
// its router's snapshots combined. Names both tiers publish (messages.in,
// messages.out, bytes, refusals, ...) take the frontend's value, which is
// what the clients saw; the two tiers' QoS 0 shedding are different drops
// and are summed; every other name is copied from the tier that has it.
//
// Pure function on values; any thread (mqtt-broker calls it on its
// frontend's io thread with the router's latest snapshot).
#pragma once

#include "common/stats/snapshot.hpp"

namespace stats {

// The header (incarnation, sequence, uptime) is the frontend's; kind is
// broker and id the router's.
snapshot combine(const snapshot& frontend, const snapshot& router);

}  // namespace stats
