// Authentication of CONNECT credentials. Authentication is always on: there
// is no anonymous mode. Implementations: password_file (Mosquitto's format),
// rsa_authenticator (the original product's scheme), any_of (accepts when any
// member accepts), reloadable (swaps its inner one on SIGHUP). Client
// certificates (--use-identity-as-username) bypass this interface: see
// connection::set_peer_identity.
//
// Authenticators are immutable after construction and only read from the
// frontend's I/O thread(s); check() must be safe to call concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace frontend::auth {

enum class result {
    accepted,
    bad_credentials,      // CONNACK 4: unknown user or wrong password
    missing_credentials,  // CONNACK 5: no username or no password given
};

class authenticator {
  public:
    virtual ~authenticator() = default;
    // Compares secrets in constant time.
    virtual result check(std::optional<std::string_view> username,
                         std::optional<std::string_view> password) const = 0;
};

// Accepts a client when any of its members accepts it.
class any_of final : public authenticator {
  public:
    explicit any_of(std::vector<std::unique_ptr<authenticator>> members)
        : members_(std::move(members)) {}
    result check(std::optional<std::string_view> username,
                 std::optional<std::string_view> password) const override {
        if (!username || !password) return result::missing_credentials;
        for (const auto& m : members_)
            if (m->check(username, password) == result::accepted) return result::accepted;
        return result::bad_credentials;
    }

  private:
    std::vector<std::unique_ptr<authenticator>> members_;
};

}  // namespace frontend::auth
