// When the router makes its commits durable (the router's --sync option).
// The store only offers db::commit(batch, sync) and db::flush_wal(sync); the
// router implements the timing. What each policy risks:
//
//   none    Every commit is written to the write-ahead log in the OS page cache
//           (a write(2), no fsync). Survives a crash of the process (kill -9,
//           abort, OOM kill): the kernel still writes the pages. An OS crash or
//           a power loss may lose the commits of the last seconds (whatever the
//           kernel had not yet written back); the store then comes back as of
//           an earlier commit, never half a batch. Acknowledgements (PUBACK,
//           PUBREC, SUBACK, CONNACK) may have been sent for the lost commits.
//   batch   The router gathers what one loop turn (at most a few ms) changes
//           into one batch and commits it with sync (fdatasync of the log), and
//           holds the acknowledgements of that group until the sync returned.
//           Nothing acknowledged is lost on a power loss; latency is one sync
//           per group, throughput close to `none` under load.
//   always  Every commit is synced before the router goes on: nothing
//           acknowledged is lost, one sync per change (slowest).
//
// A clean close (db destructor) syncs the log under every policy.
//
// Pure code; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace store {

enum class sync_policy { always, batch, none };

// "always", "batch" or "none"; nullopt for anything else.
std::optional<sync_policy> parse_sync_policy(std::string_view text);
const char* to_string(sync_policy p);

}  // namespace store
