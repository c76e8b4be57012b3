#include "common/stats/combine.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace stats {
namespace {

// Drops of the same name that happen at different places in the two tiers.
constexpr std::array<std::string_view, 1> summed = {"messages.dropped.qos0_shed"};

template <typename Item>
bool has(const std::vector<Item>& items, std::string_view name) {
    return std::any_of(items.begin(), items.end(), [&](const Item& i) { return i.name == name; });
}

}  // namespace

snapshot combine(const snapshot& frontend, const snapshot& router) {
    snapshot out = frontend;
    out.kind = process_kind::broker;
    out.id = router.id;
    for (const auto& c : router.counters) {
        auto it = std::find_if(out.counters.begin(), out.counters.end(),
                               [&](const named_value& v) { return v.name == c.name; });
        if (it == out.counters.end())
            out.counters.push_back(c);
        else if (std::find(summed.begin(), summed.end(), c.name) != summed.end())
            it->value += c.value;
    }
    for (const auto& g : router.gauges)
        if (!has(out.gauges, g.name)) out.gauges.push_back(g);
    for (const auto& h : router.histograms)
        if (!has(out.histograms, h.name)) out.histograms.push_back(h);
    return out;
}

}  // namespace stats
