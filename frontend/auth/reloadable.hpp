// An authenticator whose credentials can be replaced while clients connect:
// it forwards check() to the current inner authenticator, which reload()
// (SIGHUP, frontend_server::reload) swaps for one built from the files as
// they are now. Connections keep a reference to this stable object, so each
// CONNECT is checked against the credentials current at that moment; a swap
// never touches established connections.
//
// Owns the current inner authenticator (shared with a check() that runs
// during a swap). check() and replace() may run on any threads at once: the
// pointer is guarded by a mutex, the check itself runs outside it.
#pragma once

#include <memory>
#include <mutex>

#include "frontend/auth/authenticator.hpp"

namespace frontend::auth {

class reloadable final : public authenticator {
  public:
    explicit reloadable(std::unique_ptr<authenticator> initial);

    // From now on, CONNECTs are checked by `next` (not null).
    void replace(std::unique_ptr<authenticator> next);

    result check(std::optional<std::string_view> username,
                 std::optional<std::string_view> password) const override;

  private:
    std::shared_ptr<const authenticator> current() const;

    mutable std::mutex mutex_;
    std::shared_ptr<const authenticator> current_;  // guarded by mutex_
};

}  // namespace frontend::auth
