// Parsing Mosquitto's acl_file format (rules.hpp), and reading the file.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/acl/rules.hpp"
#include "common/topic/topic.hpp"

namespace acl {

namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// The first blank-separated word of `s` (trimmed), and the trimmed rest.
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    std::size_t end = 0;
    while (end < s.size() && !is_blank(s[end])) ++end;
    return {s.substr(0, end), trim(s.substr(end))};
}

std::optional<std::uint8_t> access_named(std::string_view word) {
    if (word == "read") return read;
    if (word == "write") return write;
    if (word == "readwrite") return readwrite;
    if (word == "deny") return deny;
    return std::nullopt;
}

}  // namespace

std::optional<rules> rules::parse(std::string_view text, std::string_view source,
                                  std::string& error) {
    std::unordered_map<std::string, block> blocks;  // username ("" anonymous) -> rules
    std::string current;                            // the block `topic` lines go to
    rules out;
    unsigned number = 0;
    auto fail = [&](const std::string& why) {
        error = std::string(source) + ":" + std::to_string(number) + ": " + why;
        return std::nullopt;
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto newline = text.find('\n', pos);
        auto raw = text.substr(pos, newline == std::string_view::npos ? text.npos : newline - pos);
        pos = newline == std::string_view::npos ? text.size() : newline + 1;
        ++number;
        if (number == 1 && raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);  // UTF-8 BOM
        const auto line = trim(raw);
        if (line.empty() || line.front() == '#') continue;

        const auto [keyword, rest] = split_word(line);
        if (keyword == "user") {
            if (rest.empty()) return fail("'user' needs a username");
            current = std::string(rest);
            blocks.try_emplace(current);
            continue;
        }
        if (keyword != "topic" && keyword != "pattern")
            return fail("unknown keyword '" + std::string(keyword) +
                        "' (expected user, topic or pattern)");
        if (rest.empty()) return fail("'" + std::string(keyword) + "' needs a topic filter");
        auto [word, filter] = split_word(rest);
        std::uint8_t access = readwrite;
        if (filter.empty()) {
            filter = word;  // "topic FILTER": read and write
        } else {
            const auto named = access_named(word);
            if (!named)
                return fail("unknown access '" + std::string(word) +
                            "' (expected read, write, readwrite or deny)");
            access = *named;
        }
        if (!mqtt::topic::valid_filter(filter))
            return fail("'" + std::string(filter) + "' is not a valid topic filter");

        rule r{access, std::string(filter), number};
        ++out.rule_count_;
        if (keyword == "pattern") {
            out.patterns_use_username_ |= r.filter.find("%u") != std::string::npos;
            out.patterns_use_client_id_ |= r.filter.find("%c") != std::string::npos;
            out.patterns_.push_back(std::move(r));
        } else {
            auto& b = blocks[current];
            (access == deny ? b.denies : b.allows).push_back(std::move(r));
        }
    }

    for (auto& [name, b] : blocks) {
        auto shared = std::make_shared<const block>(std::move(b));
        if (!name.empty()) out.users_.emplace(name, shared);
        if (out.patterns_.empty()) {
            auto c = std::make_shared<client_rules>();
            c->own_ = shared;
            out.fixed_.emplace(name, std::move(c));
        }
        if (name.empty()) out.users_.emplace(name, std::move(shared));
    }
    out.nobody_ = std::make_shared<const client_rules>();
    return out;
}

std::shared_ptr<const rules> load_file(const std::string& path, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        error = path + ": is a directory";
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot be read: " + std::strerror(errno);
        return nullptr;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        error = path + ": cannot be read: " + std::strerror(errno);
        return nullptr;
    }
    auto parsed = rules::parse(text.str(), path, error);
    if (!parsed) return nullptr;
    return std::make_shared<const rules>(std::move(*parsed));
}

}  // namespace acl
