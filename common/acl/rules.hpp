// Access control lists in Mosquitto's acl_file format (--acl-file FILE):
//
//     # comment (a line whose first non-blank character is '#'), blank lines
//     topic [read|write|readwrite|deny] FILTER   rules of the current block
//     user NAME                                  starts NAME's block (rest of the line)
//     pattern [read|write|readwrite|deny] FILTER every client; %u -> username, %c -> client id
//
// `topic` lines before the first `user` line form the anonymous block: they
// apply to clients without a username (an empty username counts as none).
// Without an access word the rule is readwrite; FILTER (the rest of the line,
// spaces allowed) must be a valid MQTT topic filter.
//
// Decisions (Mosquitto 2.0's src/security_default.c, checked against
// mosquitto 2.0.11; see README "Authorization (ACL)"):
// - With a file loaded, whatever no rule grants is denied.
// - One check walks, in order: the client's block's deny rules (a match
//   denies), its allow rules (a match with the wanted access grants), then
//   the patterns' deny rules, then their allow rules; nothing matched: denied.
//   So `deny` beats any allow of its own kind, and a user's allow is final
//   before the patterns are consulted (as in Mosquitto).
// - %u and %c are replaced wherever they stand (Mosquitto 2.0 does the same);
//   a pattern with %u does not apply to a client without a username. A
//   username (client id) containing '+', '#' or '/' could name another
//   client's subtree: such a client gets no pattern rules at all when a
//   pattern uses %u (%c). Mosquitto 2.0 refuses only '+' and '#', and does so
//   whenever patterns exist.
// - PUBLISH and receiving check the topic name against each rule's filter
//   (MQTT matching: a rule whose first level is a wildcard never matches a
//   '$' topic). SUBSCRIBE checks filter against filter: granted when one read
//   rule covers every topic the filter can match ("a/#" covers "a/+/b" and
//   "a", not "#"), refused when one deny rule covers it; a deny rule that
//   covers only part of it leaves it granted and the topics it denies are
//   filtered at delivery. (Mosquitto 2.0's acl_file grants every SUBSCRIBE
//   and filters at delivery only; its dynamic-security plugin checks
//   filter against filter like this.)
// - Topics whose first level is "$SYS" are never writable by clients (as in
//   Mosquitto); reading them needs a rule ("topic read $SYS/#").
//
// Immutable once built; safe to share between threads. Pure code except
// load_file(), which reads one file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace acl {

// Access bits of a rule; 0 is `deny`.
enum access : std::uint8_t { deny = 0, read = 1, write = 2, readwrite = 3 };

struct rule {
    std::uint8_t access = readwrite;
    std::string filter;  // for a pattern: as written, with %u / %c
    unsigned line = 0;   // in the file, for messages
};

// The rules of one block: deny rules first, then the others in file order.
struct block {
    std::vector<rule> denies;
    std::vector<rule> allows;
};

// What one client may do: its block and the patterns resolved for its
// username and client id. Cheap to check: a few filter matches per call.
class client_rules {
  public:
    bool may_publish(std::string_view topic) const;
    bool may_receive(std::string_view topic) const;
    bool may_subscribe(std::string_view filter) const;

  private:
    friend class rules;
    template <class Covers>
    bool check(std::uint8_t want, const Covers& covers) const;

    std::shared_ptr<const block> own_;  // the user's (or anonymous) block; null if none
    bool patterns_refused_ = false;     // a dangerous username / client id (see the top)
    block patterns_;                    // substituted for this client
};

class rules {
  public:
    // Parses acl_file text. `source` names it in errors: "SOURCE:LINE: why"
    // (one line). Returns nullopt with `error` set on the first bad line.
    static std::optional<rules> parse(std::string_view text, std::string_view source,
                                      std::string& error);

    // The rules of one client. Without patterns a user's are shared,
    // computed once at parse; with patterns they are built per call (once
    // per connection by the router).
    std::shared_ptr<const client_rules> for_client(std::string_view username,
                                                   std::string_view client_id) const;

    bool may_publish(std::string_view username, std::string_view client_id,
                     std::string_view topic) const {
        return for_client(username, client_id)->may_publish(topic);
    }
    bool may_receive(std::string_view username, std::string_view client_id,
                     std::string_view topic) const {
        return for_client(username, client_id)->may_receive(topic);
    }
    bool may_subscribe(std::string_view username, std::string_view client_id,
                       std::string_view filter) const {
        return for_client(username, client_id)->may_subscribe(filter);
    }

    std::size_t rule_count() const { return rule_count_; }
    std::size_t user_count() const { return users_.size() - users_.count(""); }
    std::size_t pattern_count() const { return patterns_.size(); }

  private:
    // username -> block ("" is the anonymous block).
    std::unordered_map<std::string, std::shared_ptr<const block>> users_;
    std::vector<rule> patterns_;  // file order
    bool patterns_use_username_ = false;
    bool patterns_use_client_id_ = false;
    // Without patterns: per username, the shared client_rules; and one with
    // no rules at all for usernames without a block.
    std::unordered_map<std::string, std::shared_ptr<const client_rules>> fixed_;
    std::shared_ptr<const client_rules> nobody_;
    std::size_t rule_count_ = 0;
};

// Reads and parses FILE. On failure returns null and sets `error` to one
// line naming the file (and the line: "FILE:LINE: why").
std::shared_ptr<const rules> load_file(const std::string& path, std::string& error);

// True if every topic `inner` can match is matched by `outer` (both valid
// filters), with MQTT's '$' rule: "#" covers "+/x" but not "$SYS/x".
bool covers(std::string_view outer, std::string_view inner);

}  // namespace acl
