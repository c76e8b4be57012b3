#include "frontend/auth/from_options.hpp"

#include <stdexcept>

#include "frontend/auth/password_file.hpp"
#include "frontend/auth/rsa_authenticator.hpp"

namespace frontend::auth {

std::unique_ptr<authenticator> from_options(const config::frontend_options& options) {
    std::vector<std::unique_ptr<authenticator>> members;
    std::string error;
    if (!options.password_file.empty()) {
        auto p = password_file::load(options.password_file, error);
        if (!p) throw std::runtime_error("--password-file: " + error);
        members.push_back(std::move(p));
    }
    if (!options.rsa_key.empty()) {
        auto r = rsa_authenticator::load(options.rsa_key, error);
        if (!r) throw std::runtime_error("--rsa-key: " + error);
        members.push_back(std::move(r));
    }
    // With --use-identity-as-username, client certificates may be the only
    // credentials: then no password is accepted (config::parse made sure a
    // tls or wss listener exists).
    if (members.empty() && !options.use_identity_as_username)
        throw std::runtime_error("no credentials configured: give --password-file or --rsa-key");
    return std::make_unique<any_of>(std::move(members));
}

}  // namespace frontend::auth
