// frontend::deadline_queue: one timer for many sessions' deadlines, in order,
// re-scheduled, cancelled, and safe when an entry or the queue goes first.
#include "frontend/net/deadline_queue.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(deadline_queue)

namespace {

using clock_type = frontend::deadline_queue::clock;
using namespace std::chrono_literals;

struct probe final : frontend::deadline_queue::entry {
    explicit probe(std::string n, std::vector<std::string>& log) : name(std::move(n)), log(log) {}
    void on_deadline() override {
        log.push_back(name);
        if (then) then();
    }
    std::string name;
    std::vector<std::string>& log;
    std::function<void()> then;
};

// Runs the io_context until `log` has `n` entries or two seconds passed.
void run_until(boost::asio::io_context& io, const std::vector<std::string>& log, std::size_t n) {
    const auto give_up = clock_type::now() + 2s;
    io.restart();
    while (log.size() < n && clock_type::now() < give_up) io.run_for(5ms);
}

// A queue on its own io_context, and the log its probes write to.
struct queue_fixture {
    boost::asio::io_context io;
    frontend::deadline_queue q{io};
    std::vector<std::string> log;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(entries_expire_in_deadline_order_and_unlinked, queue_fixture) {
    probe a("a", log), b("b", log), c("c", log);
    const auto now = clock_type::now();
    q.schedule(c, now + 30ms);
    q.schedule(a, now + 10ms);
    q.schedule(b, now + 20ms);
    BOOST_TEST(a.scheduled());
    run_until(io, log, 3);
    BOOST_TEST(log == (std::vector<std::string>{"a", "b", "c"}), boost::test_tools::per_element());
    BOOST_TEST(!a.scheduled());
    BOOST_TEST(!c.scheduled());
    BOOST_TEST(q.empty());
}

BOOST_FIXTURE_TEST_CASE(a_reschedule_replaces_the_deadline_and_a_cancel_removes_it, queue_fixture) {
    probe early("early", log), late("late", log), gone("gone", log);
    const auto now = clock_type::now();
    q.schedule(late, now + 10ms);
    q.schedule(early, now + 60ms);
    q.schedule(early, now + 5ms);  // earlier than the armed timer
    q.schedule(late, now + 40ms);  // later: the first expiry finds it not due
    q.schedule(gone, now + 20ms);
    q.cancel(gone);
    q.cancel(gone);  // twice: nothing
    BOOST_TEST((early.deadline() == now + 5ms));
    run_until(io, log, 2);
    BOOST_TEST(log == (std::vector<std::string>{"early", "late"}),
               boost::test_tools::per_element());
    // Nothing else comes.
    io.restart();
    io.run_for(50ms);
    BOOST_TEST(log.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_entry_destroyed_while_scheduled_leaves_the_queue, queue_fixture) {
    probe stays("stays", log);
    {
        probe leaves("leaves", log);
        q.schedule(leaves, clock_type::now() + 5ms);
        q.schedule(stays, clock_type::now() + 15ms);
    }
    run_until(io, log, 1);
    io.restart();
    io.run_for(30ms);
    BOOST_TEST(log == (std::vector<std::string>{"stays"}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(on_deadline_may_reschedule_itself_and_destroy_others, queue_fixture) {
    probe again("again", log);
    auto victim = std::make_unique<probe>("victim", log);
    int rounds = 0;
    again.then = [&] {
        victim.reset();  // due in the same pass: it must simply be gone
        // A deadline already past: it runs again, but on a later expiry, not
        // in an endless loop inside this one.
        if (++rounds < 3) q.schedule(again, clock_type::now() - 1ms);
    };
    const auto now = clock_type::now();
    q.schedule(again, now + 5ms);
    q.schedule(*victim, now + 5ms + std::chrono::nanoseconds(1));
    run_until(io, log, 3);
    BOOST_TEST(log == (std::vector<std::string>{"again", "again", "again"}),
               boost::test_tools::per_element());
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(the_queue_may_go_before_its_entries) {
    std::vector<std::string> log;
    probe outlives("outlives", log);
    {
        boost::asio::io_context io;
        frontend::deadline_queue q(io);
        q.schedule(outlives, clock_type::now() + 1h);
    }
    BOOST_TEST(!outlives.scheduled());  // and its destructor touches nothing
    BOOST_TEST(log.empty());
}

BOOST_AUTO_TEST_SUITE_END()
