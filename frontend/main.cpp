// mqtt-frontend: one frontend process (TLS termination, MQTT parsing,
// authentication) connected to the router tier over ZeroMQ.
#include <spdlog/spdlog.h>

#include <iostream>

#include "common/config/options.hpp"
#include "frontend/net/tls_buffer_cache.hpp"
#include "frontend/run.hpp"

int main(int argc, char** argv, char** envp) {
    // Before anything allocates through OpenSSL (net/tls_buffer_cache.hpp).
    const bool tls_cache = frontend::tls_buffer_cache::install();
    auto parsed = config::parse(config::program::frontend, argc, argv, envp);
    if (!parsed.opts) {
        (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message << "\n";
        return parsed.exit_code;
    }
    spdlog::set_level(spdlog::level::from_str(parsed.opts->common.log_level));
    if (!tls_cache)
        spdlog::debug("tls: OpenSSL allocated before main; record buffers are not cached");
    zmq::context_t zctx(1);
    return frontend::run(zctx, *parsed.opts);
}
