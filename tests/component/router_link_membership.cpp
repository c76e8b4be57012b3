// frontend::router_link (and frontend_server on top of it) against fake
// routers: ZeroMQ ROUTER sockets on inproc:// (or loopback TCP with a free
// port) that answer hello with router_hello and record everything else.
// Covers ownership over the live routers' ids (checked against
// cluster::rendezvous_owner), a silent router, router_leaving, a changing
// endpoint set (the path the DNS watcher's callback takes), two endpoints of
// one router, a DNS name in --routers, IPv6 endpoints, and back-pressure:
// FIFO order, pause/resume, and QoS 0 shedding by frontend_server.
//
// Single-threaded: the io_context runs in short slices on the test thread and
// the fake routers are polled between them; every wait has a deadline.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/cluster/rendezvous.hpp"
#include "common/config/options.hpp"
#include "common/events/events.hpp"
#include "frontend/auth/authenticator.hpp"
#include "frontend/frontend_server.hpp"
#include "frontend/router_link.hpp"

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {

// Events go to a router in batches of up to events::batch_max_events: a
// burst of this many PUBLISHes makes many more ZeroMQ messages than a
// queue_limit of 4 (a high-water mark of 4 messages) takes.
constexpr std::uint16_t burst_size = 20 * events::batch_max_events;
// Through a frontend's session: 12 batches (the inproc pipe takes 5: sndhwm 4
// + the fake router's rcvhwm 1) of 8-byte PUBLISHes, 3 KiB, so that the burst
// and what follows it arrive in one read of the session's 4 KiB buffer.
constexpr std::uint16_t server_burst = 12 * events::batch_max_events;

std::string unique_endpoint() {
    static std::atomic<int> n{0};
    return "inproc://router_link_membership-" + std::to_string(n++);
}

std::uint64_t next_incarnation() {
    static std::uint64_t n = 0x1000;
    return ++n;
}

// A router as far as a frontend can tell: answers hello (while `answering`),
// records every other event, and can speak first.
class fake_router {
  public:
    fake_router(zmq::context_t& ctx, std::string id, strings endpoints, int rcvhwm = 0)
        : id(std::move(id)),
          endpoints(std::move(endpoints)),
          socket_(ctx, zmq::socket_type::router) {
        socket_.set(zmq::sockopt::rcvhwm, rcvhwm);
        socket_.set(zmq::sockopt::linger, 0);
        // "tcp://127.0.0.1:*" picks a free port: keep the endpoint it became.
        for (auto& e : this->endpoints) {
            socket_.set(zmq::sockopt::ipv6, e.find('[') != std::string::npos);
            socket_.bind(e);
            e = socket_.get(zmq::sockopt::last_endpoint);
        }
    }

    std::string id;
    strings endpoints;
    std::uint64_t incarnation = next_incarnation();
    bool answering = true;                // answer hellos
    bool reading = true;                  // poll() reads at all (false: the frontend's queue fills)
    std::vector<events::event> received;  // everything but hellos, in arrival order
    std::map<std::string, int> hellos;    // per frontend routing id
    std::string last_peer;                // routing id of the last sender

    void poll() {
        while (reading) {
            zmq::message_t peer, body;
            if (!socket_.recv(peer, zmq::recv_flags::dontwait)) return;
            (void)socket_.recv(body, zmq::recv_flags::none);
            last_peer = peer.to_string();
            boost::system::error_code ec;
            std::vector<events::event> batch;
            events::decode_batch(body.to_string_view(), batch, ec);
            BOOST_TEST_REQUIRE(!ec);
            for (auto& e : batch) {
                if (std::holds_alternative<events::hello>(e)) {
                    ++hellos[last_peer];
                    if (answering) send(last_peer, events::router_hello{id, incarnation});
                } else {
                    received.push_back(std::move(e));
                }
            }
        }
    }

    void send(const std::string& peer, const events::event& e) {
        const auto bytes = events::encode(e);
        socket_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
    }

    int total_hellos() const {
        int n = 0;
        for (const auto& [peer, count] : hellos) n += count;
        return n;
    }

  private:
    zmq::socket_t socket_;
};

// What the link reported through its handlers.
struct link_log {
    std::vector<events::event> events;
    struct lost {
        std::size_t index;
        std::string why;
        std::uint64_t survivor;
    };
    std::vector<lost> losses;
    std::vector<bool> pauses;
    int membership_changes = 0;
};

// One io_context, one ZeroMQ context, fake routers and a router_link.
struct fixture {
    zmq::context_t zctx{1};
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
        boost::asio::make_work_guard(io);
    std::vector<std::unique_ptr<fake_router>> routers;
    link_log log;
    std::unique_ptr<frontend::router_link> link;

    ~fixture() {
        link.reset();
        routers.clear();
    }

    fake_router& add_router(const std::string& id, int rcvhwm = 0) {
        routers.push_back(
            std::make_unique<fake_router>(zctx, id, strings{unique_endpoint()}, rcvhwm));
        return *routers.back();
    }

    frontend::router_link& make_link(strings specs, frontend::link_settings settings) {
        link = std::make_unique<frontend::router_link>(
            io, zctx, "fe-test", std::move(specs), settings,
            frontend::router_link::handlers{
                [this](events::event&& e) { log.events.push_back(std::move(e)); },
                [this](std::size_t i, const std::string& why, std::uint64_t survivor) {
                    log.losses.push_back({i, why, survivor});
                },
                [this](bool paused) { log.pauses.push_back(paused); },
                [this] { ++log.membership_changes; },
            });
        return *link;
    }

    // Runs the io_context and polls the routers until `done` or the timeout.
    template <class Pred>
    bool pump(Pred done, std::chrono::milliseconds timeout = 3000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            io.run_for(2ms);
            for (auto& r : routers) r->poll();
            if (done()) return true;
        }
        return false;
    }
    void pump_for(std::chrono::milliseconds d) {
        pump([] { return false; }, d);
    }

    // The slot whose endpoint is `endpoint`.
    std::size_t slot_of(const std::string& endpoint) const {
        for (std::size_t i = 0; i < link->router_count(); ++i)
            if (link->endpoint(i) == endpoint) return i;
        BOOST_FAIL("no slot for " + endpoint);
        return 0;
    }
    bool all_alive(const std::vector<fake_router*>& rs) const {
        for (auto* r : rs)
            if (!link->router_alive(slot_of(r->endpoints.front()))) return false;
        return true;
    }
    // The router id owning `client`, as the link decides.
    std::optional<std::string> owner(const std::string& client) const {
        auto slot = link->owner_of(client);
        if (!slot) return std::nullopt;
        return link->router_id(*slot);
    }
};

frontend::link_settings fast_settings() {
    frontend::link_settings s;
    s.heartbeat_interval = 20ms;
    s.peer_timeout = 150ms;
    return s;
}

strings client_ids() {
    strings ids;
    for (int i = 0; i < 64; ++i) ids.push_back("client-" + std::to_string(i));
    return ids;
}

std::string expected_owner(const std::string& client, const strings& router_ids) {
    return *cluster::rendezvous_owner(client, router_ids);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(router_link_membership)

BOOST_AUTO_TEST_CASE(owner_is_the_rendezvous_winner_over_alive_router_ids) {
    fixture f;
    auto& a = f.add_router("r-a");
    auto& b = f.add_router("r-b");
    auto& c = f.add_router("r-c");
    auto& link = f.make_link({c.endpoints[0], a.endpoints[0], b.endpoints[0]}, fast_settings());
    BOOST_TEST(!link.owner_of("x").has_value());
    BOOST_TEST(link.owner_pending());  // not started: nothing known yet
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return f.all_alive({&a, &b, &c}); }));
    BOOST_TEST(!link.owner_pending());
    BOOST_TEST(link.router_count() == 3u);
    std::map<std::string, int> per_router;
    for (const auto& id : client_ids()) {
        BOOST_TEST_CONTEXT(id) {
            const auto owner = f.owner(id);
            BOOST_TEST_REQUIRE(owner.has_value());
            // Hashing over router ids, not endpoints: the routers agree with this.
            BOOST_TEST(*owner == expected_owner(id, {"r-a", "r-b", "r-c"}));
            ++per_router[*owner];
        }
    }
    BOOST_TEST(per_router.size() == 3u);  // 64 ids spread over all three
}

BOOST_AUTO_TEST_CASE(a_silent_router_is_excluded_until_it_answers_again) {
    fixture f;
    auto& a = f.add_router("r-a");
    auto& b = f.add_router("r-b");
    auto& c = f.add_router("r-c");
    auto& link = f.make_link({a.endpoints[0], b.endpoints[0], c.endpoints[0]}, fast_settings());
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return f.all_alive({&a, &b, &c}); }));
    std::map<std::string, std::string> before;
    for (const auto& id : client_ids()) before[id] = *f.owner(id);

    b.answering = false;
    const auto b_slot = f.slot_of(b.endpoints[0]);
    BOOST_TEST_REQUIRE(f.pump([&] { return !link.router_available(b_slot); }));
    BOOST_TEST(!link.router_alive(b_slot));
    BOOST_TEST_REQUIRE(f.log.losses.size() == 1u);
    BOOST_TEST(f.log.losses[0].index == b_slot);
    BOOST_TEST(f.log.losses[0].why == "router silent");
    BOOST_TEST(f.log.losses[0].survivor == 0u);
    for (const auto& id : client_ids()) {
        BOOST_TEST_CONTEXT(id) {
            const auto owner = f.owner(id);
            BOOST_TEST_REQUIRE(owner.has_value());  // the survivors take b's clients
            BOOST_TEST(*owner == expected_owner(id, {"r-a", "r-c"}));
            if (before[id] != "r-b") BOOST_TEST(*owner == before[id]);  // others stay put
        }
    }

    b.answering = true;
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(b_slot); }));
    for (const auto& id : client_ids()) BOOST_TEST(*f.owner(id) == before[id]);
}

BOOST_AUTO_TEST_CASE(no_router_alive_means_no_owner_once_the_timeout_passed) {
    fixture f;
    auto& a = f.add_router("r-a");
    a.answering = false;
    auto& link = f.make_link({a.endpoints[0]}, fast_settings());
    link.start();
    f.pump_for(30ms);
    BOOST_TEST(!link.owner_of("x").has_value());
    BOOST_TEST(link.owner_pending());  // never heard from, not yet silent for the timeout
    BOOST_TEST_REQUIRE(f.pump([&] { return !link.owner_pending(); }));
    BOOST_TEST(!link.owner_of("x").has_value());
    BOOST_TEST(f.log.membership_changes > 0);
}

BOOST_AUTO_TEST_CASE(a_leaving_router_gets_no_new_clients_until_a_new_incarnation) {
    fixture f;
    auto& a = f.add_router("r-a");
    auto& b = f.add_router("r-b");
    auto& link = f.make_link({a.endpoints[0], b.endpoints[0]}, fast_settings());
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return f.all_alive({&a, &b}); }));
    const auto a_slot = f.slot_of(a.endpoints[0]);
    const int changes = f.log.membership_changes;

    a.send(a.last_peer, events::router_leaving{"r-a", a.incarnation});
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_leaving(a_slot); }));
    BOOST_TEST(f.log.membership_changes > changes);
    for (const auto& id : client_ids()) BOOST_TEST(*f.owner(id) == "r-b");
    f.pump_for(100ms);  // it keeps answering hellos with the same incarnation
    BOOST_TEST(link.router_leaving(a_slot));
    BOOST_TEST(link.router_alive(a_slot));
    BOOST_TEST(f.log.losses.empty());  // its sessions are its own to close
    BOOST_TEST(f.log.events.empty());  // router_leaving is the link's, not the server's

    a.incarnation = next_incarnation();  // restarted
    BOOST_TEST_REQUIRE(f.pump([&] { return !link.router_leaving(a_slot); }));
    BOOST_TEST_REQUIRE(f.log.losses.size() == 1u);
    BOOST_TEST(f.log.losses[0].why == "router restarted");
    BOOST_TEST(f.log.losses[0].survivor == a.incarnation);
    for (const auto& id : client_ids())
        BOOST_TEST(*f.owner(id) == expected_owner(id, {"r-a", "r-b"}));
}

BOOST_AUTO_TEST_CASE(leaving_is_forgotten_when_the_router_is_lost) {
    fixture f;
    auto& a = f.add_router("r-a");
    auto& link = f.make_link({a.endpoints[0]}, fast_settings());
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return f.all_alive({&a}); }));
    a.send(a.last_peer, events::router_leaving{"r-a", a.incarnation});
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_leaving(0); }));
    BOOST_TEST(!link.owner_of("x").has_value());
    a.answering = false;
    BOOST_TEST_REQUIRE(f.pump([&] { return !link.router_available(0); }));
    BOOST_TEST(!link.router_leaving(0));
    a.answering = true;  // the same process answers again: a normal owner
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(0); }));
    BOOST_TEST(f.owner("x").value_or("none") == "r-a");
}

BOOST_AUTO_TEST_CASE(endpoint_set_changes_retire_add_and_reuse_slots) {
    fixture f;
    auto& a = f.add_router("r-a");
    auto& b = f.add_router("r-b");
    auto& c = f.add_router("r-c");
    auto& link = f.make_link({a.endpoints[0], b.endpoints[0]}, fast_settings());
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return f.all_alive({&a, &b}); }));
    const auto a_slot = f.slot_of(a.endpoints[0]);
    const auto b_slot = f.slot_of(b.endpoints[0]);

    // What the DNS watcher's callback posts: a left, c joined.
    link.set_endpoints({b.endpoints[0], c.endpoints[0]});
    BOOST_TEST(link.router_count() == 3u);  // slots are never erased
    BOOST_TEST(link.router_retired(a_slot));
    const auto c_slot = f.slot_of(c.endpoints[0]);
    BOOST_TEST(c_slot == 2u);
    BOOST_TEST(f.slot_of(b.endpoints[0]) == b_slot);  // nor reordered
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(c_slot); }));
    for (const auto& id : client_ids())
        BOOST_TEST(*f.owner(id) == expected_owner(id, {"r-b", "r-c"}));
    // Retired but alive: its sessions stay, so the link still talks to it.
    const int hellos = a.total_hellos();
    f.pump_for(100ms);
    BOOST_TEST(a.total_hellos() > hellos);
    BOOST_TEST(link.router_alive(a_slot));
    BOOST_TEST(f.log.losses.empty());

    // Once it is not alive, its socket closes: no more hellos reach it.
    a.answering = false;
    BOOST_TEST_REQUIRE(f.pump([&] { return !link.router_alive(a_slot); }));
    BOOST_TEST_REQUIRE(f.log.losses.size() == 1u);
    BOOST_TEST(f.log.losses[0].index == a_slot);
    f.pump_for(50ms);
    const int after_close = a.total_hellos();
    f.pump_for(150ms);
    BOOST_TEST(a.total_hellos() == after_close);

    // It comes back: same slot, alive again, an owner again.
    a.answering = true;
    link.set_endpoints({a.endpoints[0], b.endpoints[0], c.endpoints[0]});
    BOOST_TEST(link.router_count() == 3u);
    BOOST_TEST(!link.router_retired(a_slot));
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(a_slot); }));
    for (const auto& id : client_ids())
        BOOST_TEST(*f.owner(id) == expected_owner(id, {"r-a", "r-b", "r-c"}));
}

BOOST_AUTO_TEST_CASE(a_retired_endpoint_never_heard_from_closes_at_once) {
    fixture f;
    auto& a = f.add_router("r-a");
    auto& b = f.add_router("r-b");
    b.answering = false;
    auto settings = fast_settings();
    settings.peer_timeout = 5000ms;  // b stays "not yet heard from" throughout
    auto& link = f.make_link({a.endpoints[0], b.endpoints[0]}, settings);
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return f.all_alive({&a}); }));
    BOOST_TEST(link.owner_pending());
    link.set_endpoints({a.endpoints[0]});
    BOOST_TEST(!link.owner_pending());
    f.pump_for(50ms);
    const int hellos = b.total_hellos();
    BOOST_TEST(hellos > 0);
    f.pump_for(150ms);
    BOOST_TEST(b.total_hellos() == hellos);
}

BOOST_AUTO_TEST_CASE(two_endpoints_of_one_router_count_once) {
    fixture f;
    // One router bound to two endpoints: a name and an IP, as DNS may give.
    f.routers.push_back(std::make_unique<fake_router>(
        f.zctx, "r-a", strings{unique_endpoint(), unique_endpoint()}));
    auto& a = *f.routers.back();
    auto& b = f.add_router("r-b");
    auto& link = f.make_link({a.endpoints[0], a.endpoints[1], b.endpoints[0]}, fast_settings());
    link.start();
    auto alive_count = [&] {
        int n = 0;
        for (std::size_t i = 0; i < link.router_count(); ++i) n += link.router_alive(i);
        return n;
    };
    BOOST_TEST_REQUIRE(f.pump([&] { return alive_count() == 2 && f.all_alive({&b}); }));
    f.pump_for(100ms);
    BOOST_TEST(alive_count() == 2);  // one of a's two sockets was closed
    const auto a0 = f.slot_of(a.endpoints[0]);
    const auto a1 = f.slot_of(a.endpoints[1]);
    const auto used = link.router_alive(a0) ? a0 : a1;
    for (const auto& id : client_ids()) {
        auto slot = link.owner_of(id);
        BOOST_TEST_REQUIRE(slot.has_value());
        BOOST_TEST(link.router_id(*slot) == expected_owner(id, {"r-a", "r-b"}));
        if (link.router_id(*slot) == "r-a") BOOST_TEST(*slot == used);
    }
    // Only one routing id keeps saying hello to a (the router would otherwise
    // take each for a replacement of the other).
    std::map<std::string, int> before = a.hellos;
    f.pump_for(150ms);
    int talking = 0;
    for (const auto& [peer, n] : a.hellos) talking += n > before[peer];
    BOOST_TEST(talking == 1);
}

BOOST_AUTO_TEST_CASE(a_dns_name_becomes_one_slot_per_address) {
    fixture f;
    // A loopback TCP router on a free port, named through /etc/hosts.
    f.routers.push_back(
        std::make_unique<fake_router>(f.zctx, "r-dns", strings{"tcp://127.0.0.1:*"}));
    auto& r = *f.routers.back();
    const auto& bound = r.endpoints[0];  // tcp://127.0.0.1:PORT
    const auto port = bound.substr(bound.rfind(':') + 1);
    auto settings = fast_settings();
    settings.discovery_interval = 100ms;
    auto& link = f.make_link({"tcp://localhost:" + port}, settings);
    link.start();
    BOOST_TEST(link.owner_pending());  // the watcher's first list is not in yet
    BOOST_TEST(link.router_count() == 0u);
    BOOST_TEST_REQUIRE(f.pump([&] {
        for (std::size_t i = 0; i < link.router_count(); ++i)
            if (link.router_alive(i)) return true;
        return false;
    }));
    // localhost -> 127.0.0.1 (and [::1] where /etc/hosts says so: a slot each).
    BOOST_TEST(link.router_alive(f.slot_of(bound)));
    BOOST_TEST(f.owner("x").value_or("none") == "r-dns");
    BOOST_TEST(r.total_hellos() > 0);
}

BOOST_AUTO_TEST_CASE(ipv6_endpoints_connect) {
    fixture f;
    try {
        f.routers.push_back(
            std::make_unique<fake_router>(f.zctx, "r-v6", strings{"tcp://[::1]:*"}));
    } catch (const zmq::error_t& e) {
        BOOST_TEST_MESSAGE("no IPv6 loopback here (" << e.what() << "): skipped");
        return;
    }
    const auto bound = f.routers.back()->endpoints[0];  // tcp://[::1]:PORT
    BOOST_TEST(bound.starts_with("tcp://[::1]:"));
    auto& link = f.make_link({bound}, fast_settings());
    link.start();
    // Without ZMQ_IPV6 on the DEALER, libzmq accepts this endpoint but never connects.
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(0); }));
    BOOST_TEST(f.owner("x").value_or("none") == "r-v6");
}

BOOST_AUTO_TEST_CASE(final_acks_wait_for_the_next_event_unless_they_cannot) {
    fixture f;
    auto& r = f.add_router("r-a");
    auto settings = fast_settings();
    settings.ack_delay = 3600s;  // only what does not wait arrives in this test
    auto& link = f.make_link({r.endpoints[0]}, settings);
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(0); }));
    using events::ack_kind;
    auto ack = [](ack_kind kind, std::uint16_t id) { return events::client_ack{7, kind, id}; };
    auto kind_at = [&](std::size_t i) {
        return std::get<events::client_ack>(r.received.at(i)).kind;
    };

    // A PUBACK alone waits; the next PUBLISH takes it along, in order.
    link.send(0, ack(ack_kind::puback, 1));
    f.pump_for(50ms);
    BOOST_TEST(r.received.empty());
    link.send(0, events::client_publish{8, "t", "m", 1, false, false, 5});
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 2u; }));
    BOOST_TEST(std::get<events::client_ack>(r.received[0]).packet_id == 1);
    BOOST_TEST(std::get<events::client_publish>(r.received[1]).packet_id == 5);

    // PUBREC and PUBREL need the router's answer, and a session with a queue
    // in the router needs its PUBACK or PUBCOMP handled: none of them waits.
    link.send(0, ack(ack_kind::pubrec, 2));
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 3u; }));
    link.send(0, ack(ack_kind::pubrel, 3));
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 4u; }));
    link.send(0, ack(ack_kind::puback, 4), /*may_wait=*/false);
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 5u; }));
    link.send(0, ack(ack_kind::pubcomp, 5), /*may_wait=*/false);
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 6u; }));
    BOOST_TEST((kind_at(2) == ack_kind::pubrec));
    BOOST_TEST((kind_at(3) == ack_kind::pubrel));
    BOOST_TEST((kind_at(4) == ack_kind::puback));
    BOOST_TEST((kind_at(5) == ack_kind::pubcomp));

    // ack_batch_events of them go without company; every one, in order.
    const auto n = frontend::router_link::ack_batch_events;
    for (std::uint16_t id = 10; id < 10 + n; ++id) link.send(0, ack(ack_kind::puback, id));
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 6u + n; }));
    for (std::size_t i = 6; i < r.received.size(); ++i)
        BOOST_TEST(std::get<events::client_ack>(r.received[i]).packet_id == i + 4);
}

BOOST_AUTO_TEST_CASE(a_lone_final_ack_goes_after_the_delay) {
    fixture f;
    auto& r = f.add_router("r-a");
    auto settings = fast_settings();
    settings.ack_delay = 30ms;
    auto& link = f.make_link({r.endpoints[0]}, settings);
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(0); }));
    const auto sent_at = std::chrono::steady_clock::now();
    link.send(0, events::client_ack{7, events::ack_kind::pubcomp, 1});
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 1u; }));
    BOOST_TEST((std::chrono::steady_clock::now() - sent_at >= settings.ack_delay));
}

BOOST_AUTO_TEST_CASE(a_full_queue_keeps_events_in_order_and_pauses_until_drained) {
    fixture f;
    auto& r = f.add_router("r-a", /*rcvhwm*/ 1);
    auto settings = fast_settings();
    settings.peer_timeout = 10'000ms;  // a router that does not read is not dead here
    settings.heartbeat_interval = 50ms;
    settings.queue_limit = 4;
    auto& link = f.make_link({r.endpoints[0]}, settings);
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(0); }));
    BOOST_TEST(!link.paused());

    r.reading = false;
    f.pump_for(20ms);
    for (std::uint16_t id = 1; id <= burst_size; ++id)
        link.send(0, events::client_publish{7, "t", "m", 1, false, false, id});
    BOOST_TEST(link.paused());
    BOOST_TEST(link.backlog(0) > burst_size / 2u);  // the DEALER took only a handful of batches
    BOOST_TEST_REQUIRE(f.log.pauses.size() == 1u);
    BOOST_TEST(f.log.pauses[0] == true);
    const auto queued = link.backlog(0);
    f.pump_for(200ms);  // heartbeats meanwhile: hellos never join the FIFO
    BOOST_TEST(link.backlog(0) == queued);
    BOOST_TEST(link.paused());

    r.reading = true;
    // (A heartbeat hello that meets a full queue waits in the FIFO too, and
    // pauses again for a moment: wait for the quiet end.)
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == burst_size && !link.paused(); }));
    BOOST_TEST(link.backlog(0) == 0u);
    BOOST_TEST_REQUIRE(f.log.pauses.size() % 2 == 0u);
    for (std::size_t i = 0; i < f.log.pauses.size(); ++i)
        BOOST_TEST(f.log.pauses[i] == (i % 2 == 0));  // paused, resumed, ...
    for (std::uint16_t i = 0; i < burst_size; ++i) {
        const auto* p = std::get_if<events::client_publish>(&r.received[i]);
        BOOST_TEST_REQUIRE(p != nullptr);
        BOOST_TEST(p->packet_id == i + 1);  // in order, none lost
    }
}

BOOST_AUTO_TEST_CASE(a_lost_router_drops_its_fifo_and_unpauses) {
    fixture f;
    auto& r = f.add_router("r-a", /*rcvhwm*/ 1);
    auto settings = fast_settings();
    settings.queue_limit = 4;
    auto& link = f.make_link({r.endpoints[0]}, settings);
    link.start();
    BOOST_TEST_REQUIRE(f.pump([&] { return link.router_alive(0); }));
    r.reading = false;  // and so never answers again
    for (std::uint16_t id = 1; id <= burst_size; ++id)
        link.send(0, events::client_publish{7, "t", "m", 1, false, false, id});
    BOOST_TEST(link.paused());
    BOOST_TEST_REQUIRE(f.pump([&] { return !link.router_available(0); }));
    BOOST_TEST(!link.paused());
    BOOST_TEST(link.backlog(0) == 0u);
    BOOST_TEST((f.log.pauses == std::vector<bool>{true, false}));
}

// ---- frontend_server on top of the link --------------------------------------

namespace {

class accept_u_p final : public frontend::auth::authenticator {
  public:
    frontend::auth::result check(std::optional<std::string_view> user,
                                 std::optional<std::string_view> password) const override {
        return user == "u" && password == "p" ? frontend::auth::result::accepted
                                              : frontend::auth::result::bad_credentials;
    }
};

std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values) s.push_back(static_cast<char>(v));
    return s;
}

// CONNECT, MQTT 3.1.1, client id "c1", user "u", password "p".
std::string connect_c1_keep_alive(std::uint8_t seconds) {
    return bytes({
        0x10, 0x14,                         // CONNECT, remaining length 20
        0x00, 0x04,    'M', 'Q', 'T', 'T',  // protocol name
        0x04,                               // protocol level 4 (3.1.1)
        0xc2,                               // flags: username, password, clean session
        0x00, seconds,                      // keep-alive
        0x00, 0x02,    'c', '1',            // client id "c1"
        0x00, 0x01,    'u',                 // username "u"
        0x00, 0x01,    'p',                 // password "p"
    });
}
const std::string connect_c1 = connect_c1_keep_alive(60);

const std::string pingreq = bytes({0xc0, 0x00});   // PINGREQ, remaining length 0
const std::string pingresp = bytes({0xd0, 0x00});  // PINGRESP, remaining length 0

// PUBLISH QoS 1, topic "t", packet id `id`, payload "x".
std::string publish_qos1(std::uint16_t id) {
    return bytes({
        0x32, 0x06,                                 // PUBLISH, QoS 1; remaining length 6
        0x00, 0x01, 't',                            // topic "t"
        static_cast<std::uint8_t>(id >> 8),         // packet id MSB
        static_cast<std::uint8_t>(id & 0xff), 'x',  // packet id LSB; payload
    });
}

// PUBLISH QoS 0, topic "t", payload "y".
const std::string publish_qos0 = bytes({
    0x30, 0x04,       // PUBLISH, QoS 0; remaining length 4
    0x00, 0x01, 't',  // topic "t"
    'y',              // payload
});

struct server_fixture : fixture {
    boost::asio::io_context client_io;
    std::unique_ptr<frontend::frontend_server> server;

    ~server_fixture() {
        if (server) {
            server->stop();
            pump_for(20ms);
            server.reset();
        }
    }

    void start_server(const std::string& router_endpoint, frontend::link_settings settings) {
        config::frontend_options o;
        // Port 0 (a free one) is not valid in --listen, so built by hand.
        o.listeners.push_back({"tcp", "127.0.0.1", 0, "", "tcp://127.0.0.1:0"});
        o.frontend_id = "fe-test";
        o.routers = {router_endpoint};
        server = std::make_unique<frontend::frontend_server>(io, zctx, o, settings,
                                                             std::make_unique<accept_u_p>());
        server->start();
    }

    boost::asio::ip::tcp::socket client() {
        boost::asio::ip::tcp::socket s(client_io);
        s.connect({boost::asio::ip::make_address("127.0.0.1"), server->listener_port(0)});
        return s;
    }

    // Reads exactly n bytes from `s`, pumping meanwhile.
    std::string read_n(boost::asio::ip::tcp::socket& s, std::size_t n) {
        std::string got;
        pump([&] {
            while (s.available() > 0 && got.size() < n) {
                char c;
                s.read_some(boost::asio::buffer(&c, 1));
                got.push_back(c);
            }
            return got.size() >= n;
        });
        return got;
    }

    // Connects client "c1" through the fake router (CONNACK 0).
    boost::asio::ip::tcp::socket connected_client(fake_router& r, const std::string& connect) {
        auto c = client();
        boost::asio::write(c, boost::asio::buffer(connect));
        BOOST_TEST_REQUIRE(pump([&] { return !r.received.empty(); }));
        answer_connects(r);
        BOOST_TEST_REQUIRE(read_n(c, 4) == bytes({0x20, 0x02, 0x00, 0x00}));
        r.received.clear();
        return c;
    }

    // Fills the link's queue: the router stops reading, the client publishes
    // QoS 1 messages 1..20 in one burst.
    void fill_queue(fake_router& r, boost::asio::ip::tcp::socket& c, const std::string& more = {}) {
        r.reading = false;
        std::string burst;
        for (std::uint16_t id = 1; id <= server_burst; ++id) burst += publish_qos1(id);
        boost::asio::write(c, boost::asio::buffer(burst + more));
    }

    // The fake router answers every client_connect it received with CONNACK 0.
    void answer_connects(fake_router& r) {
        for (const auto& e : r.received)
            if (const auto* c = std::get_if<events::client_connect>(&e))
                r.send(r.last_peer, events::connack{c->conn, false, 0, r.incarnation});
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_connect_before_any_router_answered_waits_for_one) {
    server_fixture f;
    auto& r = f.add_router("r-a");
    r.answering = false;
    auto settings = fast_settings();
    settings.peer_timeout = 5000ms;
    f.start_server(r.endpoints[0], settings);
    auto c = f.client();
    boost::asio::write(c, boost::asio::buffer(connect_c1));
    f.pump_for(100ms);
    BOOST_TEST(r.received.empty());  // parked: no router to own it yet
    r.answering = true;
    BOOST_TEST_REQUIRE(f.pump([&] { return !r.received.empty(); }));
    const auto* connect = std::get_if<events::client_connect>(&r.received[0]);
    BOOST_TEST_REQUIRE(connect != nullptr);
    BOOST_TEST(connect->client_id == "c1");
    f.answer_connects(r);
    BOOST_TEST(f.read_n(c, 4) == bytes({0x20, 0x02, 0x00, 0x00}));  // CONNACK 0
}

BOOST_AUTO_TEST_CASE(a_connect_no_router_can_take_gets_connack_3_at_once) {
    server_fixture f;
    auto& r = f.add_router("r-a");
    r.answering = false;
    f.start_server(r.endpoints[0], fast_settings());
    BOOST_TEST_REQUIRE(f.pump([&] { return !f.server->link().owner_pending(); }));
    auto c = f.client();
    boost::asio::write(c, boost::asio::buffer(connect_c1));
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(f.read_n(c, 4) == bytes({0x20, 0x02, 0x00, 0x03}));  // CONNACK 3
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1000ms));
    BOOST_TEST(r.received.empty());
}

BOOST_AUTO_TEST_CASE(a_puback_for_a_queued_delivery_goes_at_once_a_live_ones_waits) {
    server_fixture f;
    auto& r = f.add_router("r-a");
    auto settings = fast_settings();
    settings.ack_delay = 3600s;  // a deferred ack stays deferred in this test
    f.start_server(r.endpoints[0], settings);
    BOOST_TEST_REQUIRE(f.pump([&] { return f.server->link().router_alive(0); }));
    auto c = f.client();
    boost::asio::write(c, boost::asio::buffer(connect_c1));
    BOOST_TEST_REQUIRE(f.pump([&] { return !r.received.empty(); }));
    const auto conn = std::get<events::client_connect>(r.received.at(0)).conn;
    f.answer_connects(r);
    BOOST_TEST_REQUIRE(f.read_n(c, 4) == bytes({0x20, 0x02, 0x00, 0x00}));
    r.received.clear();
    // PUBLISH QoS 1 to the client, topic "t", packet id `id`, payload "x".
    auto delivered = [](std::uint16_t id) { return publish_qos1(id); };
    auto puback = [](std::uint16_t id) { return bytes({0x40, 0x02, id >> 8, id & 0xff}); };

    // received_us 0: it waited in the router, which may hold more for c1.
    r.send(r.last_peer, events::deliver{conn, "t", "x", 1, false, false, 1, 0});
    BOOST_TEST_REQUIRE(f.read_n(c, 8) == delivered(1));
    boost::asio::write(c, boost::asio::buffer(puback(1)));
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 1u; }));
    BOOST_TEST(std::get<events::client_ack>(r.received[0]).packet_id == 1);

    // Straight from routing: its PUBACK waits for company.
    r.send(r.last_peer, events::deliver{conn, "t", "x", 1, false, false, 2, 1234});
    BOOST_TEST_REQUIRE(f.read_n(c, 8) == delivered(2));
    boost::asio::write(c, boost::asio::buffer(puback(2)));
    f.pump_for(100ms);
    BOOST_TEST(r.received.size() == 1u);
    boost::asio::write(c, boost::asio::buffer(publish_qos1(9)));
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == 3u; }));
    BOOST_TEST(std::get<events::client_ack>(r.received[1]).packet_id == 2);
    BOOST_TEST(std::get<events::client_publish>(r.received[2]).packet_id == 9);
}

BOOST_AUTO_TEST_CASE(while_paused_qos0_is_shed_and_everything_else_is_kept_in_order) {
    server_fixture f;
    auto& r = f.add_router("r-a", /*rcvhwm*/ 1);
    auto settings = fast_settings();
    settings.peer_timeout = 10'000ms;
    settings.heartbeat_interval = 50ms;
    settings.queue_limit = 4;
    f.start_server(r.endpoints[0], settings);
    auto c = f.connected_client(r, connect_c1);

    // One burst: QoS 1 PUBLISHes fill the queue (the router does not read),
    // then 5 QoS 0 ones arrive in the same read.
    std::string qos0s;
    for (int i = 0; i < 5; ++i) qos0s += publish_qos0;
    f.fill_queue(r, c, qos0s);
    BOOST_TEST_REQUIRE(f.pump([&] { return f.server->qos0_shed() == 5u; }));
    BOOST_TEST(f.server->link().paused());

    // Paused: the session issues no read, so this one waits in the socket; or,
    // when a read was already pending as the pause began, it is held unprocessed
    // until resume. Either way it is not shed.
    boost::asio::write(c, boost::asio::buffer(publish_qos0));
    f.pump_for(100ms);
    BOOST_TEST(f.server->qos0_shed() == 5u);

    r.reading = true;
    const bool resumed = f.pump(
        [&] { return r.received.size() == server_burst + 1u && !f.server->link().paused(); });
    BOOST_TEST_REQUIRE(resumed, "received " << r.received.size() << " of " << server_burst + 1
                                            << ", paused " << f.server->link().paused());
    for (std::size_t i = 0; i < server_burst; ++i) {
        const auto* p = std::get_if<events::client_publish>(&r.received[i]);
        BOOST_TEST_REQUIRE(p != nullptr);
        BOOST_TEST(p->qos == 1);
        BOOST_TEST(p->packet_id == i + 1);
    }
    // Processed after resume, and forwarded: the session reads again.
    const auto* last = std::get_if<events::client_publish>(&r.received[server_burst]);
    BOOST_TEST_REQUIRE(last != nullptr);
    BOOST_TEST(last->qos == 0);
    BOOST_TEST(last->payload == "y");
    BOOST_TEST(f.server->qos0_shed() == 5u);
}

BOOST_AUTO_TEST_CASE(a_pause_longer_than_keep_alive_does_not_close_a_pinging_client) {
    server_fixture f;
    auto& r = f.add_router("r-a", /*rcvhwm*/ 1);
    auto settings = fast_settings();
    settings.peer_timeout = 10'000ms;
    settings.heartbeat_interval = 50ms;
    settings.queue_limit = 4;
    f.start_server(r.endpoints[0], settings);
    auto c = f.connected_client(r, connect_c1_keep_alive(1));  // closed after 1.5 s of silence
    f.fill_queue(r, c);
    BOOST_TEST_REQUIRE(f.pump([&] { return f.server->link().paused(); }));
    // The client keeps pinging; paused, the frontend reads none of it.
    for (int i = 0; i < 5; ++i) {
        boost::asio::write(c, boost::asio::buffer(pingreq));
        f.pump_for(400ms);
    }
    BOOST_TEST(f.server->link().paused());
    BOOST_TEST(c.available() == 0u);  // no PINGRESP, and not closed either
    BOOST_TEST(f.server->session_count() == 1u);

    // Resumed: the waiting PINGREQs are read and answered; the client stays.
    r.reading = true;
    std::string answers = f.read_n(c, 5 * pingresp.size());
    BOOST_TEST(answers == pingresp + pingresp + pingresp + pingresp + pingresp);
    f.pump_for(300ms);
    BOOST_TEST(f.server->session_count() == 1u);
    boost::asio::write(c, boost::asio::buffer(publish_qos0));
    BOOST_TEST_REQUIRE(f.pump([&] { return r.received.size() == server_burst + 1u; }));
    BOOST_TEST(std::holds_alternative<events::client_publish>(r.received[server_burst]));
}

BOOST_AUTO_TEST_SUITE_END()
