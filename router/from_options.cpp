#include "router/from_options.hpp"

namespace router {

router_settings settings_from(const config::router_options& o) {
    router_settings s;
    s.max_queued_messages = o.max_queued_messages;
    s.max_inflight_messages = o.max_inflight_messages;
    s.max_queued_bytes = o.max_queued_bytes;
    s.max_queued_bytes_total = o.max_queued_bytes_total;
    s.max_retained_messages = o.max_retained_messages;
    s.max_subscriptions_per_client = o.max_subscriptions_per_client;
    s.session_expiry = std::chrono::seconds(o.session_expiry_s);
    s.max_forward_messages = o.max_forward_messages;
    s.max_forward_bytes = o.max_forward_bytes;
    return s;
}

}  // namespace router
