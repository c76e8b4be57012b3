// Topic name / filter validation and matching (MQTT 3.1.1 section 4.7).
//
// Levels are split on '/' without allocating: "a//b" has three levels
// ("a", "", "b"), "/a" has two ("", "a"), "a/" has two ("a", "").
#include "common/topic/topic.hpp"

#include <cstddef>

namespace mqtt::topic {
namespace {

constexpr std::size_t max_length = 65535;

// Walks the '/'-separated levels of a topic name or filter.
class level_cursor {
  public:
    explicit level_cursor(std::string_view s) : s_(s) {}

    bool done() const { return done_; }

    // The next level; call only while !done().
    std::string_view next() {
        const auto slash = s_.find('/', pos_);
        if (slash == std::string_view::npos) {
            done_ = true;
            return s_.substr(pos_);
        }
        const auto level = s_.substr(pos_, slash - pos_);
        pos_ = slash + 1;
        return level;
    }

  private:
    std::string_view s_;
    std::size_t pos_ = 0;
    bool done_ = false;
};

}  // namespace

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > max_length) return false;
    return name.find_first_of(std::string_view("+#\0", 3)) == std::string_view::npos;
}

bool valid_filter(std::string_view filter) {
    if (filter.empty() || filter.size() > max_length) return false;
    if (filter.find('\0') != std::string_view::npos) return false;
    level_cursor levels(filter);
    while (!levels.done()) {
        const auto level = levels.next();
        if (level.find('#') != std::string_view::npos) {
            // '#' must be the whole level and the last one.
            if (level != "#" || !levels.done()) return false;
        } else if (level.find('+') != std::string_view::npos) {
            if (level != "+") return false;
        }
    }
    return true;
}

bool matches(std::string_view filter, std::string_view name) {
    // Topics starting with '$' are never matched by a filter whose first
    // level is a wildcard (4.7.2).
    if (!name.empty() && name.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    level_cursor f(filter);
    level_cursor n(name);
    for (;;) {
        const auto fl = f.next();
        if (fl == "#") return true;  // this level and everything below, even nothing ("a/#" ~ "a")
        if (n.done()) return false;  // the filter has more levels than the name
        const auto nl = n.next();
        if (fl != "+" && fl != nl) return false;
        if (f.done()) return n.done();
    }
}

}  // namespace mqtt::topic
