// Authenticator over a Mosquitto password file: one `user:hash` per line,
// hashes as in password_hash.hpp ($7$ PBKDF2-HMAC-SHA512 or $6$ SHA-512).
// Empty lines and lines starting with '#' are skipped; blanks around the user
// and the hash are trimmed, as Mosquitto does. Anything else that does not
// parse is a load error naming the file and line.
//
// Owns its user table; immutable after load(), so check() may run on any
// number of threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "frontend/auth/authenticator.hpp"
#include "frontend/auth/password_hash.hpp"

namespace frontend::auth {

class password_file final : public authenticator {
  public:
    // Reads and parses `path`. On failure returns null and sets `error` to one
    // line, e.g. "passwd:3: hash is not valid base64".
    static std::unique_ptr<password_file> load(const std::string& path, std::string& error);

    // Parses file contents already in memory; `source` names them in errors.
    static std::unique_ptr<password_file> parse(std::string_view contents,
                                                const std::string& source, std::string& error);

    // Unknown users cost the same hashing work as known ones.
    result check(std::optional<std::string_view> username,
                 std::optional<std::string_view> password) const override;

    std::size_t size() const { return users_.size(); }

  private:
    password_file() = default;

    std::unordered_map<std::string, password_hash> users_;
    password_hash decoy_;  // hashed against for unknown users
};

}  // namespace frontend::auth
