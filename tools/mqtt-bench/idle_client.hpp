// The connection-storm role: connect, then hold the connection (keep-alive
// only) until the run ends. Owned by its worker; runs on its thread.
#pragma once

#include "tools/mqtt-bench/client.hpp"

namespace bench {

class idle_client final : public client {
  public:
    using client::client;

  private:
    void on_connack() override { settle_ready(); }
    void on_packet(mqtt::packet&) override {}
};

}  // namespace bench
