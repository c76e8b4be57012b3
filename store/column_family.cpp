#include "store/column_family.hpp"

#include <rocksdb/comparator.h>
#include <rocksdb/db.h>

namespace store {
namespace {

class fixed_handle final : public rocksdb::ColumnFamilyHandle {
  public:
    fixed_handle(std::uint32_t id, const std::string& name) : id_(id), name_(name) {}

    const std::string& GetName() const override { return name_; }
    std::uint32_t GetID() const override { return id_; }
    rocksdb::Status GetDescriptor(rocksdb::ColumnFamilyDescriptor*) override {
        return rocksdb::Status::NotSupported("store batch handle");
    }
    const rocksdb::Comparator* GetComparator() const override {
        return rocksdb::BytewiseComparator();
    }

  private:
    std::uint32_t id_;
    const std::string& name_;
};

}  // namespace

const std::array<std::string, family_count>& family_names() {
    static const std::array<std::string, family_count> names{rocksdb::kDefaultColumnFamilyName,
                                                             "meta",
                                                             "messages",
                                                             "sessions",
                                                             "outbound",
                                                             "inbound",
                                                             "retained",
                                                             "forward"};
    return names;
}

rocksdb::ColumnFamilyHandle* batch_handle(family f) {
    static std::array<fixed_handle, family_count> handles{
        fixed_handle{0, family_names()[0]}, fixed_handle{1, family_names()[1]},
        fixed_handle{2, family_names()[2]}, fixed_handle{3, family_names()[3]},
        fixed_handle{4, family_names()[4]}, fixed_handle{5, family_names()[5]},
        fixed_handle{6, family_names()[6]}, fixed_handle{7, family_names()[7]}};
    return &handles[static_cast<std::size_t>(f)];
}

}  // namespace store
