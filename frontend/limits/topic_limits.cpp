#include "frontend/limits/topic_limits.hpp"

#include <algorithm>

namespace frontend::limits {

bool within(const topic_limits& limits, std::string_view topic) {
    if (topic.size() > limits.max_length) return false;
    const auto levels = 1 + static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/'));
    return levels <= limits.max_levels;
}

}  // namespace frontend::limits
