// Unit tests for the mutual-TLS options of common/config: --tls-ca,
// --require-client-cert and --use-identity-as-username (switches on the
// command line, yes/no/on/off/true/false in the config file and the
// environment), their dependencies and their one-line errors. Same pattern
// as config_options.cpp.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/options.hpp"
#include "tests/unit/config_test_support.hpp"

namespace fs = std::filesystem;
using config::program;

using config_test::fails;
using config_test::files;
using config_test::run;

namespace {

// A TLS listener's certificate and key, plus `more`.
std::vector<std::string> cert_args(const files& f, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--tls-cert", f.cert, "--tls-key", f.key};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

config::frontend_options ok(const config::parse_result& r) {
    return config_test::ok(r).frontend;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_client_certs)

BOOST_AUTO_TEST_CASE(off_by_default) {
    files f;
    auto fe = ok(run(program::broker, cert_args(f, {"--password-file", f.passwd})));
    BOOST_TEST(fe.tls_ca.empty());
    BOOST_TEST(!fe.require_client_cert);
    BOOST_TEST(!fe.use_identity_as_username);
}

BOOST_AUTO_TEST_CASE(switches_on_the_command_line_for_both_programs) {
    files f;
    auto fe = ok(run(program::broker,
                     cert_args(f, {"--password-file", f.passwd, "--tls-ca", f.ca,
                                   "--require-client-cert", "--use-identity-as-username"})));
    BOOST_TEST(fe.tls_ca == f.ca);
    BOOST_TEST(fe.require_client_cert);
    BOOST_TEST(fe.use_identity_as_username);

    fe = ok(run(program::frontend, cert_args(f, {"--password-file", f.passwd, "--tls-ca", f.ca,
                                                 "--routers", "tcp://r:7000"})));
    BOOST_TEST(fe.tls_ca == f.ca);  // a CA alone: certificates verified when sent
    BOOST_TEST(!fe.require_client_cert);

    // A switch takes no value on the command line.
    fails(run(program::broker, cert_args(f, {"--password-file", f.passwd, "--tls-ca", f.ca,
                                             "--require-client-cert=yes"})),
          "--require-client-cert: takes no value");
    fails(run(program::router, {"--tls-ca", f.ca}), "--tls-ca: not an option of mqtt-router");
}

BOOST_AUTO_TEST_CASE(switches_in_the_config_file_and_environment) {
    files f;
    auto conf = f.write("mtls.conf", "tls-ca = " + f.ca +
                                         "\nrequire-client-cert = yes\n"
                                         "use-identity-as-username = true\n");
    auto fe = ok(run(program::broker, cert_args(f, {"-c", conf})));
    BOOST_TEST(fe.tls_ca == f.ca);
    BOOST_TEST(fe.require_client_cert);
    BOOST_TEST(fe.use_identity_as_username);

    fe = ok(run(program::broker, cert_args(f, {"--password-file", f.passwd}),
                {"MQTT_TLS_CA=" + f.ca, "MQTT_REQUIRE_CLIENT_CERT=on",
                 "MQTT_USE_IDENTITY_AS_USERNAME=off"}));
    BOOST_TEST(fe.require_client_cert);
    BOOST_TEST(!fe.use_identity_as_username);

    // The environment's "no" over the file's "yes"; the command line's switch over both.
    auto env = std::vector<std::string>{"MQTT_USE_IDENTITY_AS_USERNAME=false"};
    fe = ok(run(program::broker, cert_args(f, {"-c", conf, "--password-file", f.passwd}), env));
    BOOST_TEST(!fe.use_identity_as_username);
    fe = ok(run(program::broker, cert_args(f, {"-c", conf, "--use-identity-as-username"}), env));
    BOOST_TEST(fe.use_identity_as_username);

    auto bad = f.write("bad.conf", "require-client-cert = maybe\n");
    fails(run(program::broker, cert_args(f, {"-c", bad, "--password-file", f.passwd})),
          "config file " + bad +
              ": line 1: require-client-cert: 'maybe' must be yes, no, on, off, true or false");
    fails(run(program::broker, cert_args(f, {"--password-file", f.passwd}),
              {"MQTT_REQUIRE_CLIENT_CERT=1"}),
          "MQTT_REQUIRE_CLIENT_CERT: '1' must be yes, no, on, off, true or false");
    auto empty = f.write("empty.conf", "require-client-cert =\n");
    fails(run(program::broker, cert_args(f, {"-c", empty, "--password-file", f.passwd})),
          "config file " + empty + ": line 1: require-client-cert: needs a value");
}

BOOST_AUTO_TEST_CASE(dependencies_name_the_missing_setting) {
    files f;
    fails(
        run(program::broker, cert_args(f, {"--password-file", f.passwd, "--require-client-cert"})),
        "--require-client-cert needs --tls-ca (the CA that signs client certificates)");
    fails(run(program::broker, cert_args(f, {"--password-file", f.passwd, "--tls-ca", f.ca,
                                             "--use-identity-as-username"})),
          "--use-identity-as-username needs --require-client-cert");
    auto missing = (f.dir / "missing-ca.pem").string();
    fails(run(program::broker, cert_args(f, {"--password-file", f.passwd, "--tls-ca", missing})),
          "--tls-ca " + missing + ": no such file");
    fails(run(program::broker, cert_args(f, {"--password-file", f.passwd}),
              {"MQTT_TLS_CA=" + f.dir.string()}),
          "MQTT_TLS_CA " + f.dir.string() + ": is a directory");
}

BOOST_AUTO_TEST_CASE(certificates_as_identity_are_credentials_enough) {
    files f;
    // No password file: with the CN as identity, certificates authenticate
    // clients on the TLS listener.
    auto fe = ok(run(program::broker, cert_args(f, {"--tls-ca", f.ca, "--require-client-cert",
                                                    "--use-identity-as-username"})));
    BOOST_TEST(fe.password_file.empty());
    BOOST_TEST(fe.use_identity_as_username);
    // A required certificate that is not the identity still needs passwords.
    fails(run(program::broker, cert_args(f, {"--tls-ca", f.ca, "--require-client-cert"})),
          "no credentials configured: give --password-file or --rsa-key");
    // Without a tls or wss listener no certificate is ever seen.
    fails(
        run(program::broker, cert_args(f, {"--listen", "tcp://127.0.0.1:1883", "--tls-ca", f.ca,
                                           "--require-client-cert", "--use-identity-as-username"})),
        "no credentials configured: give --password-file or --rsa-key");
}

BOOST_AUTO_TEST_CASE(help_lists_the_options) {
    auto help = run(program::broker, {"--help"}).message;
    for (const char* name :
         {"--tls-ca FILE", "--require-client-cert", "--use-identity-as-username"})
        BOOST_TEST(help.find(name) != std::string::npos, name);
    BOOST_TEST(run(program::frontend, {"--help"}).message.find("--require-client-cert") !=
               std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
