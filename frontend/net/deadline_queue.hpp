// One timer for all of a frontend's client sessions. Each session is an
// `entry` with its next deadline (connect timeout, keep-alive, write timeout,
// flush bound), kept in an intrusive ordered set: scheduling allocates
// nothing and the hook is 24 bytes, where an asio::steady_timer per session
// cost 112 bytes plus ~120 for its pending wait operation and its timer-heap
// slot. The queue arms one steady_timer for the earliest deadline and, when
// it expires, unlinks every entry that is due and calls its on_deadline().
//
// An entry unlinks itself when destroyed (auto_unlink), so the queue never
// holds a dangling one; entries still linked when the queue goes are
// unlinked first. The queue does not keep an entry alive: an entry's owner
// keeps itself alive by other means (a session by its pending I/O).
//
// Owned by frontend_server; used only on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/set.hpp>
#include <chrono>
#include <memory>

namespace frontend {

class deadline_queue {
  public:
    using clock = std::chrono::steady_clock;

    class entry : public boost::intrusive::set_base_hook<
                      boost::intrusive::link_mode<boost::intrusive::auto_unlink>,
                      boost::intrusive::optimize_size<true>> {
      public:
        // Called on the io_context's thread once the deadline passed, with the
        // entry already unlinked (it may schedule itself again).
        virtual void on_deadline() = 0;
        bool scheduled() const { return is_linked(); }
        clock::time_point deadline() const { return deadline_; }

      protected:
        entry() = default;
        entry(const entry&) = delete;
        entry& operator=(const entry&) = delete;
        ~entry() = default;

      private:
        friend class deadline_queue;
        clock::time_point deadline_{};
    };

    explicit deadline_queue(boost::asio::io_context& io);
    ~deadline_queue();
    deadline_queue(const deadline_queue&) = delete;
    deadline_queue& operator=(const deadline_queue&) = delete;

    // (Re)schedules `e` for `at`, replacing any deadline it had.
    void schedule(entry& e, clock::time_point at);
    // Unschedules `e` (nothing if it was not scheduled).
    void cancel(entry& e);
    bool empty() const { return set_.empty(); }

  private:
    struct earlier {
        bool operator()(const entry& a, const entry& b) const { return a.deadline_ < b.deadline_; }
    };
    using set_type = boost::intrusive::multiset<entry, boost::intrusive::compare<earlier>,
                                                boost::intrusive::constant_time_size<false>>;

    // Arms the timer if the earliest deadline is earlier than what it waits for.
    void arm();
    void expire();

    set_type set_;
    boost::asio::steady_timer timer_;
    clock::time_point armed_for_{};
    bool armed_ = false;
    bool expiring_ = false;  // inside on_deadline(): expire() arms afterwards
    // A completion already queued when the timer is re-armed still runs with
    // success: the generation tells it apart from the current wait.
    std::uint64_t generation_ = 0;
    // Expires with the queue: a completion that runs after it does nothing.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace frontend
