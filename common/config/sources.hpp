// Internal to common/config: the table of every option, and the three places
// options come from (command line, MQTT_* environment variables, config file),
// each read into a `layer` of raw strings. options.cpp merges the layers by
// precedence and converts and validates the values.
//
// Pure functions over their arguments (read_config_file reads one file);
// safe from any thread.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/options.hpp"

namespace config::detail {

enum class arity {
    flag,  // --help: no value
    // A switch: no value on the command line (--require-client-cert); in the
    // config file and the environment yes|no, on|off or true|false.
    toggle,
    one,   // at most once per source
    many,  // repeatable; each value may also be a comma-separated list
};

struct option_spec {
    std::string_view name;  // long name, also the config-file key
    char short_name;        // 0 if none
    arity kind;
    unsigned programs;  // bit set of (1 << program)
    std::string_view value_name;
    std::string_view help;
};

std::span<const option_spec> option_table();
const option_spec* find_option(std::string_view name);
bool applies(const option_spec& spec, program which);
std::string_view program_name(program which);

// "tls-cert" -> "MQTT_TLS_CERT"
std::string env_name(std::string_view option_name);

// One value as given, and where it was given for error messages:
// "--listen", "MQTT_LISTEN" or "config file /x: line 3: listen".
struct raw_value {
    std::string value;
    std::string where;
};
// Option name -> its values from one source.
using layer = std::map<std::string, std::vector<raw_value>, std::less<>>;

// Each returns false and sets `error` to one line when the source is invalid.
bool read_command_line(program which, int argc, const char* const argv[], layer& out,
                       std::string& error);
// Unknown MQTT_* variables and options of other programs are ignored; an
// empty variable counts as unset.
bool read_environment(program which, const char* const* envp, layer& out, std::string& error);
bool read_config_file(program which, const std::string& path, layer& out, std::string& error);

// Why `path` cannot be opened for reading ("no such file", "is a directory",
// "cannot be read: Permission denied"), or "" if it can.
std::string unreadable_because(const std::string& path);

// For each option, the values of the first layer that has it.
layer merge(std::initializer_list<const layer*> by_precedence);

std::string help_text(program which);

}  // namespace config::detail
