// mqtt-bench: the project's MQTT load generator (see README.md beside this
// file). main() parses the options, installs the SIGINT/SIGTERM handler that
// ends the run early (a second signal kills), runs and reports.
#include <csignal>
#include <iostream>

#include "tools/mqtt-bench/options.hpp"
#include "tools/mqtt-bench/report.hpp"
#include "tools/mqtt-bench/run.hpp"

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_signal(int sig) {
    stop_requested.store(true);
    std::signal(sig, SIG_DFL);  // a second one ends the process
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = bench::parse_options(argc, argv);
    if (!parsed.opts) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << "\n";
        return parsed.exit_code;
    }
    const auto& o = *parsed.opts;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        const auto result = bench::run_bench(o, stop_requested);
        if (o.json)
            bench::print_json(std::cout, o, result);
        else
            bench::print_text(std::cout, o, result);
        std::cout.flush();
        return result.exit_code;
    } catch (const std::exception& e) {
        std::cerr << "mqtt-bench: " << e.what() << "\n";
        return 1;
    }
}
