#include "store/status.hpp"

#include "store/error.hpp"

namespace store {
namespace {

bool mentions(const rocksdb::Status& s, const char* text) {
    const char* state = s.getState();
    return state != nullptr && std::string_view(state).find(text) != std::string_view::npos;
}

}  // namespace

boost::system::error_code to_error(const rocksdb::Status& s) {
    if (s.ok()) return {};
    if (s.IsNoSpace() || mentions(s, "No space left") || mentions(s, "Disk quota exceeded") ||
        mentions(s, "File too large")) {
        return errc::no_space;
    }
    if (s.IsCorruption()) return errc::corruption;
    if (mentions(s, "Permission denied") || mentions(s, "Operation not permitted")) {
        return errc::permission_denied;
    }
    if (s.IsBusy() || (s.IsIOError() && (mentions(s, "lock file") || mentions(s, "lock hold")))) {
        return errc::busy;
    }
    if (s.IsInvalidArgument()) return errc::invalid_argument;
    return errc::io_error;
}

std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    std::string out;
    for (char c : text) {
        if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
        out += c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string describe(const rocksdb::Status& s) {
    return one_line(s.ToString());
}

}  // namespace store
