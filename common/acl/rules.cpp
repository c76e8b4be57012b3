// Checking ACL rules (rules.hpp): the per-client view and filter coverage.
#include "common/acl/rules.hpp"

#include "common/topic/topic.hpp"

namespace acl {

namespace {

// Walks the '/'-separated levels of a valid topic filter.
class levels {
  public:
    explicit levels(std::string_view s) : s_(s) {}
    bool done() const { return done_; }
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

bool is_sys(std::string_view topic) {
    return topic == "$SYS" || topic.starts_with("$SYS/");
}

// `filter` with every %u and %c replaced.
std::string substitute(std::string_view filter, std::string_view username,
                       std::string_view client_id) {
    std::string out;
    out.reserve(filter.size() + 16);
    for (std::size_t i = 0; i < filter.size(); ++i) {
        if (filter[i] == '%' && i + 1 < filter.size() &&
            (filter[i + 1] == 'u' || filter[i + 1] == 'c')) {
            out += filter[i + 1] == 'u' ? username : client_id;
            ++i;
        } else {
            out += filter[i];
        }
    }
    return out;
}

bool dangerous(std::string_view name) {
    return name.find_first_of("+#/") != std::string_view::npos;
}

}  // namespace

bool covers(std::string_view outer, std::string_view inner) {
    levels o(outer);
    levels i(inner);
    for (bool first = true;; first = false) {
        if (o.done()) return i.done();  // as many levels: both end here
        const auto ol = o.next();
        if (ol == "#") {
            // Everything below (and the parent level itself); a leading "#"
            // matches no '$' topic, which only a literal first level names.
            return !(first && inner.starts_with('$'));
        }
        if (i.done()) return false;  // inner matches this level's parent, outer does not
        const auto il = i.next();
        if (il == "#") return false;  // any depth: only "#" covers it
        if (il == "+") {
            if (ol != "+") return false;
        } else if (ol == "+") {
            if (first && il.starts_with('$')) return false;  // '+' first never matches '$'
        } else if (ol != il) {
            return false;
        }
    }
}

template <class Covers>
bool client_rules::check(std::uint8_t want, const Covers& covers) const {
    if (own_) {
        for (const auto& r : own_->denies)
            if (covers(r.filter)) return false;
        for (const auto& r : own_->allows)
            if ((r.access & want) != 0 && covers(r.filter)) return true;
    }
    if (patterns_refused_) return false;
    for (const auto& r : patterns_.denies)
        if (covers(r.filter)) return false;
    for (const auto& r : patterns_.allows)
        if ((r.access & want) != 0 && covers(r.filter)) return true;
    return false;
}

bool client_rules::may_publish(std::string_view topic) const {
    if (is_sys(topic)) return false;
    return check(write, [topic](const std::string& f) { return mqtt::topic::matches(f, topic); });
}

bool client_rules::may_receive(std::string_view topic) const {
    return check(read, [topic](const std::string& f) { return mqtt::topic::matches(f, topic); });
}

bool client_rules::may_subscribe(std::string_view filter) const {
    return check(read, [filter](const std::string& f) { return acl::covers(f, filter); });
}

std::shared_ptr<const client_rules> rules::for_client(std::string_view username,
                                                      std::string_view client_id) const {
    if (patterns_.empty()) {
        const auto it = fixed_.find(std::string(username));
        return it != fixed_.end() ? it->second : nobody_;
    }
    auto c = std::make_shared<client_rules>();
    if (const auto it = users_.find(std::string(username)); it != users_.end())
        c->own_ = it->second;
    if ((patterns_use_username_ && dangerous(username)) ||
        (patterns_use_client_id_ && dangerous(client_id))) {
        c->patterns_refused_ = true;
        return c;
    }
    for (const auto& p : patterns_) {
        if (username.empty() && p.filter.find("%u") != std::string::npos) continue;
        rule r{p.access, substitute(p.filter, username, client_id), p.line};
        (r.access == deny ? c->patterns_.denies : c->patterns_.allows).push_back(std::move(r));
    }
    return c;
}

}  // namespace acl
