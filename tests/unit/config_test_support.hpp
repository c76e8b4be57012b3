// Helpers shared by the config unit tests (config_options, config_limits,
// config_client_certs, config_acl_file): a temporary directory with dummy
// credential files, parse() over an argv/envp built from strings, and the
// checks for a successful and a failed parse. Header-only, test code only.
#pragma once

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/options.hpp"

namespace config_test {

// A fresh temporary directory, removed with the object.
struct temp_dir {
    std::filesystem::path dir;

    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "config_test.XXXXXX").string();
        BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    // Writes `text` to dir/name; returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        auto path = (dir / name).string();
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
};

// Dummy certificate, key and credential files: parse() checks that files
// exist and are readable, not what they hold.
struct files : temp_dir {
    std::string cert = write("server.crt", "cert\n");
    std::string key = write("server.key", "key\n");
    std::string passwd = write("passwd", "dev:$7$...\n");
    std::string ca = write("clients-ca.pem", "ca\n");
    std::string rsa = write("rsa.pem", "rsa\n");
};

// Runs parse() with argv = {program name, args...} and the given environment.
inline config::parse_result run(config::program which, std::vector<std::string> args,
                                std::vector<std::string> env = {}) {
    args.insert(args.begin(), "mqtt-test");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::vector<const char*> envp;
    for (const auto& e : env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    return config::parse(which, static_cast<int>(args.size()), argv.data(), envp.data());
}

// The TLS certificate and key and the password file every valid frontend or
// broker command line needs, plus `more`.
inline std::vector<std::string> tls_args(const files& f, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--tls-cert",      f.cert,  "--tls-key", f.key,
                                     "--password-file", f.passwd};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// The parse succeeded (exit code 0); its options.
inline config::options ok(const config::parse_result& r) {
    BOOST_TEST_INFO("message: " << r.message);
    BOOST_TEST_REQUIRE(r.opts.has_value());
    BOOST_TEST(r.exit_code == 0);
    return *r.opts;
}

// The parse failed: no options, exit code 2, exactly `expected` on one line.
inline void fails(const config::parse_result& r, const std::string& expected) {
    BOOST_TEST(!r.opts.has_value());
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(r.message == expected);
    BOOST_TEST(r.message.find('\n') == std::string::npos);
}

}  // namespace config_test
