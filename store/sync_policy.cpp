#include "store/sync_policy.hpp"

namespace store {

std::optional<sync_policy> parse_sync_policy(std::string_view text) {
    if (text == "always") return sync_policy::always;
    if (text == "batch") return sync_policy::batch;
    if (text == "none") return sync_policy::none;
    return std::nullopt;
}

const char* to_string(sync_policy p) {
    switch (p) {
        case sync_policy::always:
            return "always";
        case sync_policy::batch:
            return "batch";
        case sync_policy::none:
            return "none";
    }
    return "?";
}

}  // namespace store
