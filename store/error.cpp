#include "store/error.hpp"

#include <string>

namespace store {
namespace {

class store_category_impl : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "mqtt.store"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "success";
            case errc::io_error:
                return "I/O error";
            case errc::no_space:
                return "no space left for the store";
            case errc::corruption:
                return "store is corrupt";
            case errc::busy:
                return "store is in use";
            case errc::permission_denied:
                return "permission denied";
            case errc::newer_format:
                return "store written by a newer version";
            case errc::bad_format:
                return "not in this program's store format";
            case errc::not_a_store:
                return "directory is not a store";
            case errc::invalid_argument:
                return "invalid argument";
        }
        return "unknown store error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& store_category() {
    static const store_category_impl category;
    return category;
}

bool is_damage(const boost::system::error_code& ec) {
    return ec == errc::corruption || ec == errc::bad_format;
}

}  // namespace store
