#include "store/directory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <map>
#include <vector>

namespace store::dir {
namespace {

namespace fs = std::filesystem;

bool starts_with_digits_then(std::string_view name, std::string_view suffix) {
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) return false;
    name.remove_suffix(suffix.size());
    for (char c : name) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

bool is_data_file(std::string_view name) {
    return name == "CURRENT" || name.starts_with("MANIFEST-") ||
           starts_with_digits_then(name, ".sst") || starts_with_digits_then(name, ".log") ||
           starts_with_digits_then(name, ".blob");
}

bool is_side_file(std::string_view name) {
    return name == "LOCK" || name == "LOG" || name.starts_with("LOG.old.") || name == "IDENTITY" ||
           name.starts_with("OPTIONS-") || name.ends_with(".dbtmp");
}

bool is_aside_dir(std::string_view name) {
    return name.starts_with("damaged-");
}

std::string strip_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

std::map<std::string, pid_t>& registry() {
    static std::map<std::string, pid_t> paths;
    return paths;
}

// Entries of `from` move into the new subdirectory `to` (a name inside from).
void move_entries_into(const std::string& from, const std::string& to_name, std::error_code& ec) {
    const fs::path target = fs::path(from) / to_name;
    fs::create_directory(target, ec);
    if (ec) return;
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(from, ec)) {
        const std::string name = entry.path().filename().string();
        if (!is_aside_dir(name)) entries.push_back(entry.path());
    }
    if (ec) return;
    for (const auto& entry : entries) {
        fs::rename(entry, target / entry.filename(), ec);
        if (ec) return;
    }
    sync_directory(target.string());
    sync_directory(from);
}

}  // namespace

kind inspect(const std::string& path, std::error_code& ec) {
    ec.clear();
    const fs::file_status st = fs::status(path, ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory) {
            ec.clear();
            return kind::missing;
        }
        return kind::missing;
    }
    if (!fs::is_directory(st)) return kind::not_a_directory;
    bool data = false;
    bool other = false;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
        const std::string name = entry.path().filename().string();
        if (is_aside_dir(name)) continue;
        if (is_data_file(name)) {
            data = true;
        } else if (!is_side_file(name)) {
            other = true;
        }
    }
    if (ec) return kind::missing;
    if (data) return kind::store;
    return other ? kind::foreign : kind::empty;
}

bool store_lock::acquire(const std::string& path, std::error_code& ec, pid_t& holder) {
    release();
    ec.clear();
    holder = 0;
    const std::string lock = strip_slashes(path) + "/LOCK";
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ec = std::error_code(errno, std::generic_category());
        return false;
    }
    struct flock want {};
    want.l_type = F_WRLCK;
    want.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &want) == 0) {
        fd_ = fd;
        return true;
    }
    const int err = errno;
    if (err == EAGAIN || err == EACCES) {
        struct flock probe {};
        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        if (::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK && probe.l_pid > 0) {
            holder = probe.l_pid;
        }
    } else {
        ec = std::error_code(err, std::generic_category());
    }
    ::close(fd);
    return false;
}

bool store_lock::relock(std::error_code& ec) {
    ec.clear();
    if (fd_ < 0) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }
    struct flock want {};
    want.l_type = F_WRLCK;
    want.l_whence = SEEK_SET;
    if (::fcntl(fd_, F_SETLK, &want) == 0) return true;
    ec = std::error_code(errno, std::generic_category());
    return false;
}

void store_lock::release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

std::string move_aside(const std::string& path, std::error_code& ec) {
    ec.clear();
    const std::string from = strip_slashes(path);
    const std::string stamp = utc_stamp();
    std::string aside = from + ".damaged-" + stamp;
    for (int n = 2; fs::exists(fs::symlink_status(aside, ec)); ++n) {
        aside = from + ".damaged-" + stamp + "-" + std::to_string(n);
    }
    ec.clear();
    fs::rename(from, aside, ec);
    if (!ec) {
        sync_directory(fs::path(aside).parent_path().string());
        return aside;
    }
    // A mount point (EBUSY, EXDEV) or a parent we may not write to: keep the
    // directory, move its contents.
    std::string sub = "damaged-" + stamp;
    for (int n = 2; fs::exists(fs::symlink_status(fs::path(from) / sub, ec)); ++n) {
        sub = "damaged-" + stamp + "-" + std::to_string(n);
    }
    ec.clear();
    move_entries_into(from, sub, ec);
    return (fs::path(from) / sub).string();
}

void sync_directory(const std::string& path) {
    const int fd = ::open(path.empty() ? "." : path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

std::string utc_stamp() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string canonical(const std::string& path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
    if (ec) p = fs::absolute(path, ec).lexically_normal();
    return strip_slashes(p.string());
}

std::mutex& open_mutex() {
    static std::mutex m;
    return m;
}

bool is_open_here(const std::string& key) {
    const auto it = registry().find(key);
    return it != registry().end() && it->second == ::getpid();
}

void mark_open(const std::string& key) {
    registry()[key] = ::getpid();
}

void mark_closed(const std::string& key) {
    std::lock_guard lock(open_mutex());
    registry().erase(key);
}

}  // namespace store::dir
