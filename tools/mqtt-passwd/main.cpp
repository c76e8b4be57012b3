// mqtt-passwd: manages Mosquitto-format password files (same usage as
// mosquitto_passwd) and issues passwords of the RSA scheme.
//
//   mqtt-passwd -c -b FILE USER PASS   create/overwrite FILE with one user
//   mqtt-passwd -b FILE USER PASS      add or update USER, keep the others
//   mqtt-passwd [-c] FILE USER         same, asking for the password
//   mqtt-passwd -D FILE USER           delete USER
//   mqtt-passwd --rsa KEY.pem USER     print USER's RSA-scheme password
//
// Files are written with mode 0600 and atomically (temp file + rename).
// Exit status: 0 done, 1 failure (I/O, unknown user, bad key), 2 usage error.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/auth/password_hash.hpp"
#include "frontend/auth/rsa_authenticator.hpp"
#include "frontend/auth/rsa_key.hpp"

namespace auth = frontend::auth;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

constexpr const char* usage_text =
    "Usage: mqtt-passwd [-c | -D] [-I ITERATIONS] FILE USER\n"
    "       mqtt-passwd [-c] [-I ITERATIONS] -b FILE USER PASSWORD\n"
    "       mqtt-passwd --rsa PRIVATE_KEY.pem USER\n"
    " -b : batch mode, the password is given on the command line\n"
    " -c : create a new password file, overwriting an existing one\n"
    " -D : delete USER instead of adding or updating it\n"
    " -I : PBKDF2 iteration count (default 101, as mosquitto_passwd)\n"
    " --rsa : print USER's password for the RSA scheme (upper-case hex)\n";

int usage_error(const std::string& message) {
    std::cerr << "mqtt-passwd: " << message << " (try --help)\n";
    return exit_usage;
}

int failure(const std::string& message) {
    std::cerr << "mqtt-passwd: " << message << "\n";
    return exit_failure;
}

std::string_view trim_blanks(std::string_view s) {
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// Empty when the user name is usable in a password file, else what is wrong.
std::string user_name_problem(std::string_view user) {
    if (user.empty()) return "user name must not be empty";
    if (user.size() > 65535) return "user name must be shorter than 65536 bytes";
    if (user.find(':') != std::string_view::npos) return "user name must not contain ':'";
    for (unsigned char c : user)
        if (c < 0x20 || c == 0x7f) return "user name must not contain control characters";
    if (trim_blanks(user).size() != user.size())
        return "user name must not start or end with blanks";
    if (user.front() == '#') return "user name must not start with '#'";
    return {};
}

// Reads one line from the terminal with echo off; falls back to stdin.
std::optional<std::string> read_password_line(const char* prompt) {
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::string line;
        if (!std::getline(std::cin, line)) return std::nullopt;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }
    // Echo goes off before the prompt appears, so nothing typed after the
    // prompt is ever shown.
    termios old_mode{};
    const bool have_mode = ::tcgetattr(fd, &old_mode) == 0;
    if (have_mode) {
        termios quiet = old_mode;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)!::write(fd, prompt, std::strlen(prompt));
    std::string line;
    char c = 0;
    bool got_any = false;
    while (::read(fd, &c, 1) == 1) {
        got_any = true;
        if (c == '\n') break;
        line += c;
    }
    if (have_mode) ::tcsetattr(fd, TCSADRAIN, &old_mode);
    (void)!::write(fd, "\n", 1);
    ::close(fd);
    if (!got_any) return std::nullopt;
    return line;
}

bool read_file(const std::string& path, std::string& contents, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    contents = s.str();
    return true;
}

// Writes `contents` to a temp file next to `path` (mode 0600), then renames
// it over `path`. A symlink at `path` is followed, so its target is replaced.
bool write_file_atomically(std::string path, const std::string& contents, std::string& error) {
    std::error_code ec;
    if (std::filesystem::is_symlink(path, ec)) {
        auto target = std::filesystem::canonical(path, ec);
        if (!ec) path = target.string();
    }
    std::string temp = path + ".tmp.XXXXXX";
    const int fd = ::mkstemp(temp.data());  // creates with mode 0600
    if (fd < 0) {
        error = "cannot create a temporary file next to " + path + ": " + std::strerror(errno);
        return false;
    }
    bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
    std::size_t written = 0;
    while (ok && written < contents.size()) {
        const auto n = ::write(fd, contents.data() + written, contents.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            ok = false;
        else
            written += static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    const int saved_errno = errno;
    ok = (::close(fd) == 0) && ok;
    if (ok && ::rename(temp.c_str(), path.c_str()) == 0) return true;
    error = "cannot write " + path + ": " + std::strerror(ok ? errno : saved_errno);
    ::unlink(temp.c_str());
    return false;
}

struct edit_result {
    std::string contents;
    bool found = false;
};

// Copies the lines of `existing`, dropping (delete) or replacing (new_line)
// the entry of `user`; appends new_line when the user was not there.
std::optional<edit_result> edit_password_file(std::string_view existing, const std::string& path,
                                              std::string_view user,
                                              const std::optional<std::string>& new_line,
                                              std::string& error) {
    edit_result out;
    std::size_t line_no = 0;
    while (!existing.empty()) {
        const auto eol = existing.find('\n');
        const std::string_view line = existing.substr(0, eol);
        existing.remove_prefix(eol == std::string_view::npos ? existing.size() : eol + 1);
        ++line_no;
        const auto trimmed = trim_blanks(line);
        if (!trimmed.empty() && trimmed.front() != '#') {
            const auto colon = trimmed.find(':');
            if (colon == std::string_view::npos) {
                error =
                    path + ":" + std::to_string(line_no) + ": corrupt line (expected user:hash)";
                return std::nullopt;
            }
            if (trim_blanks(trimmed.substr(0, colon)) == user) {
                if (new_line && !out.found) out.contents += *new_line + "\n";
                out.found = true;
                continue;  // the old entry (and any duplicate) is dropped
            }
        }
        out.contents.append(line);
        out.contents += '\n';
    }
    if (new_line && !out.found) out.contents += *new_line + "\n";
    return out;
}

int issue_rsa_password(const std::string& key_path, const std::string& user) {
    std::string error;
    auto key = auth::load_rsa_pem_file(key_path, auth::rsa_key_part::private_key, error);
    if (!key) return failure(error);
    const auto password = auth::rsa_issue_password(key.get(), user, error);
    if (password.empty()) return failure(error);
    std::cout << password << "\n";
    return std::cout.flush() ? exit_ok : exit_failure;
}

struct options {
    bool create = false;
    bool remove = false;
    bool batch = false;
    int iterations = auth::default_pbkdf2_iterations;
    std::vector<std::string> positional;
};

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage_error("missing arguments");
    if (args[0] == "-h" || args[0] == "--help") {
        std::cout << usage_text;
        return exit_ok;
    }
    if (args[0] == "--rsa") {
        if (args.size() != 3) return usage_error("--rsa takes PRIVATE_KEY.pem USER");
        return issue_rsa_password(args[1], args[2]);
    }

    options opt;
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() < 2 || a[0] != '-') break;
        if (a == "-c") {
            opt.create = true;
        } else if (a == "-D") {
            opt.remove = true;
        } else if (a == "-b") {
            opt.batch = true;
        } else if (a == "-I") {
            if (++i == args.size()) return usage_error("-I needs an iteration count");
            const auto& v = args[i];
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), opt.iterations);
            if (ec != std::errc{} || end != v.data() + v.size() || opt.iterations < 1)
                return usage_error("-I needs a positive iteration count");
        } else if (a == "--rsa") {
            return usage_error("--rsa cannot be combined with other options");
        } else {
            return usage_error("unknown option " + a);
        }
    }
    opt.positional.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());

    if (opt.create && opt.remove) return usage_error("-c and -D cannot be used together");
    if (opt.remove && opt.batch) return usage_error("-b and -D cannot be used together");
    const std::size_t wanted = opt.batch ? 3 : 2;
    if (opt.positional.size() != wanted)
        return usage_error(opt.batch ? "expected FILE USER PASSWORD" : "expected FILE USER");
    const std::string& path = opt.positional[0];
    const std::string& user = opt.positional[1];
    if (const auto problem = user_name_problem(user); !problem.empty()) return usage_error(problem);

    std::string error;
    std::string existing;
    if (!opt.create && !read_file(path, existing, error)) return failure(error);

    std::optional<std::string> new_line;
    if (!opt.remove) {
        std::string password;
        if (opt.batch) {
            password = opt.positional[2];
        } else {
            auto first = read_password_line("Password: ");
            auto again = first ? read_password_line("Reenter password: ") : std::nullopt;
            if (!first || !again) return failure("no password given");
            if (*first != *again) return failure("passwords do not match");
            password = std::move(*first);
        }
        if (password.size() > 65535)
            return usage_error("password must be shorter than 65536 bytes");
        auto hash = auth::make_pbkdf2_hash(password, error, opt.iterations);
        if (!hash) return failure(error);
        new_line = user + ":" + auth::format_password_hash(*hash);
    }

    auto edited = edit_password_file(existing, path, user, new_line, error);
    if (!edited) return failure(error);
    if (opt.remove && !edited->found) return failure("user " + user + " not found in " + path);
    if (!write_file_atomically(path, edited->contents, error)) return failure(error);
    return exit_ok;
}
