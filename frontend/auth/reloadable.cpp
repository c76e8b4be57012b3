#include "frontend/auth/reloadable.hpp"

#include <utility>

namespace frontend::auth {

reloadable::reloadable(std::unique_ptr<authenticator> initial) : current_(std::move(initial)) {}

void reloadable::replace(std::unique_ptr<authenticator> next) {
    std::shared_ptr<const authenticator> incoming(std::move(next));
    {
        const std::lock_guard lock(mutex_);
        current_.swap(incoming);
    }
    // `incoming` now holds the previous one: freed here, outside the lock,
    // or by the last check() still using it.
}

std::shared_ptr<const authenticator> reloadable::current() const {
    const std::lock_guard lock(mutex_);
    return current_;
}

result reloadable::check(std::optional<std::string_view> username,
                         std::optional<std::string_view> password) const {
    return current()->check(username, password);
}

}  // namespace frontend::auth
