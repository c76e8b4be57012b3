#include "frontend/auth/password_file.hpp"

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace frontend::auth {
namespace {

std::string_view trim_blanks(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// The decoy costs what a real entry costs: same type and iteration count as
// the file's first entry (mosquitto_passwd's defaults for an empty file).
password_hash make_decoy(const password_hash* model) {
    password_hash d;
    if (model) {
        d.type = model->type;
        d.iterations = model->iterations;
        d.salt.resize(model->salt.size());
    } else {
        d.type = password_hash::kind::sha512_pbkdf2;
        d.iterations = default_pbkdf2_iterations;
        d.salt.resize(default_salt_size);
    }
    if (RAND_bytes(d.salt.data(), static_cast<int>(d.salt.size())) != 1 ||
        RAND_bytes(d.hash.data(), static_cast<int>(d.hash.size())) != 1) {
        d.hash.fill(0);  // still never matches in practice; only timing matters
    }
    return d;
}

}  // namespace

std::unique_ptr<password_file> password_file::load(const std::string& path, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        error = path + ": is a directory, not a password file";
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path + ": cannot open password file: " + std::strerror(errno);
        return nullptr;
    }
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in.bad()) {
        error = path + ": read error";
        return nullptr;
    }
    return parse(contents.str(), path, error);
}

std::unique_ptr<password_file> password_file::parse(std::string_view contents,
                                                    const std::string& source, std::string& error) {
    std::unique_ptr<password_file> file(new password_file());
    const password_hash* first = nullptr;
    std::size_t line_no = 0;
    while (!contents.empty()) {
        const auto eol = contents.find('\n');
        std::string_view line = contents.substr(0, eol);
        contents.remove_prefix(eol == std::string_view::npos ? contents.size() : eol + 1);
        ++line_no;

        const auto where = [&] { return source + ":" + std::to_string(line_no) + ": "; };
        line = trim_blanks(line);
        if (line.empty() || line.front() == '#') continue;

        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            error = where() + "expected user:hash";
            return nullptr;
        }
        const auto user = trim_blanks(line.substr(0, colon));
        const auto hash_text = trim_blanks(line.substr(colon + 1));
        if (user.empty()) {
            error = where() + "empty user name";
            return nullptr;
        }
        if (hash_text.empty()) {
            error = where() + "empty hash for user '" + std::string(user) + "'";
            return nullptr;
        }
        std::string what;
        auto hash = parse_password_hash(hash_text, what);
        if (!hash) {
            error = where() + what;
            return nullptr;
        }
        auto [it, inserted] = file->users_.emplace(std::string(user), std::move(*hash));
        if (!inserted) {
            error = where() + "duplicate user '" + std::string(user) + "'";
            return nullptr;
        }
        if (!first) first = &it->second;
    }
    file->decoy_ = make_decoy(first);
    return file;
}

result password_file::check(std::optional<std::string_view> username,
                            std::optional<std::string_view> password) const {
    if (!username || !password) return result::missing_credentials;
    const auto it = users_.find(std::string(*username));
    if (it == users_.end()) {
        (void)verify_password(decoy_, *password);  // same work, result ignored
        return result::bad_credentials;
    }
    return verify_password(it->second, *password) ? result::accepted : result::bad_credentials;
}

}  // namespace frontend::auth
