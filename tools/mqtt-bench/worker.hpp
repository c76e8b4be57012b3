// One worker thread: an io_context running many clients (publishers,
// subscribers or idle storm connections), its own worker_stats, and one timer
// that starts its clients at their scheduled connect times.
//
// The runner builds the clients (add_*), then calls run() once, and drives
// the phases with connect(), begin_publishing() and stop(), which post to the
// worker's thread. After join(), stats() and the clients are read by the
// runner alone.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "tools/mqtt-bench/client.hpp"
#include "tools/mqtt-bench/publisher.hpp"
#include "tools/mqtt-bench/subscriber.hpp"

namespace bench {

class worker {
  public:
    worker();
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    boost::asio::io_context& io() { return ioc_; }

    // Adds a client to start `offset_ns` after connect()'s base time. Before run().
    template <class T, class... Args>
    T& add(std::int64_t offset_ns, Args&&... args) {
        auto c = std::make_unique<T>(ioc_, std::forward<Args>(args)...);
        T& ref = *c;
        entries_.push_back({offset_ns, std::move(c)});
        if constexpr (std::is_same_v<T, publisher>) publishers_.push_back(&ref);
        if constexpr (std::is_same_v<T, subscriber>) subscribers_.push_back(&ref);
        return ref;
    }

    void run();  // starts the thread
    // Starts each client at base_ns + its offset (clock.hpp).
    void connect(std::int64_t base_ns);
    // fanout[i]: ready subscribers expecting publisher i (by run-wide index).
    void begin_publishing(std::int64_t start_ns, std::int64_t end_ns, std::vector<unsigned> fanout);
    // Stops sending, DISCONNECTs every client, and ends the thread within `grace`.
    void stop(std::chrono::milliseconds grace);
    void join();

    // After join().
    worker_stats& stats() { return stats_; }
    const std::vector<publisher*>& publishers() const { return publishers_; }
    const std::vector<subscriber*>& subscribers() const { return subscribers_; }

  private:
    struct entry {
        std::int64_t offset_ns;
        std::unique_ptr<client> c;
    };
    void start_due();
    void wait_closed(std::int64_t deadline_ns);

    boost::asio::io_context ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    boost::asio::steady_timer start_timer_;
    boost::asio::steady_timer stop_timer_;
    worker_stats stats_;
    std::vector<entry> entries_;
    std::vector<publisher*> publishers_;
    std::vector<subscriber*> subscribers_;
    std::int64_t base_ns_ = 0;
    std::size_t next_start_ = 0;
    std::thread thread_;
};

}  // namespace bench
