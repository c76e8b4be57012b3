#include "store/records.hpp"

#include <unordered_set>

namespace store {

std::vector<std::uint64_t> unreferenced_messages(const loaded_state& state) {
    std::unordered_set<std::uint64_t> used;
    for (const auto& [client_id, s] : state.sessions) {
        for (const auto& e : s.outbound) {
            if (e.message_id != 0) used.insert(e.message_id);
        }
    }
    for (const auto& [peer, entries] : state.forward) {
        for (const auto& f : entries) used.insert(f.message_id);
    }
    std::vector<std::uint64_t> out;
    for (const auto& [id, m] : state.messages) {
        if (!used.contains(id)) out.push_back(id);
    }
    return out;
}

std::vector<std::pair<std::string, std::uint64_t>> dangling_entries(const loaded_state& state) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (const auto& [client_id, s] : state.sessions) {
        for (const auto& e : s.outbound) {
            if (e.state == outbound_state::awaiting_pubcomp) continue;
            if (e.message_id == 0 || !state.messages.contains(e.message_id)) {
                out.emplace_back(client_id, e.seq);
            }
        }
    }
    return out;
}

}  // namespace store
