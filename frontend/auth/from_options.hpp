// Builds the authenticator a frontend uses from its options: every
// configured credential source (password file, RSA key), any of which may
// accept a client. Used at startup and again on every reload (SIGHUP); reads
// the files anew each time. Throws std::runtime_error with a one-line
// message naming the bad file.
#pragma once

#include <memory>

#include "common/config/options.hpp"
#include "frontend/auth/authenticator.hpp"

namespace frontend::auth {

std::unique_ptr<authenticator> from_options(const config::frontend_options& options);

}  // namespace frontend::auth
