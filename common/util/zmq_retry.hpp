// libzmq checks its mailbox (a poll) in every socket call, even a
// non-blocking one, and returns EINTR when a signal arrives meanwhile, which
// cppzmq throws. No call of ours is meant to be interrupted (signals are
// handled elsewhere: Asio's signal_set, stop flags), so it is made again: on
// EINTR nothing was sent or received yet.
//
// Header-only; any thread.
#pragma once

#include <cerrno>
#include <zmq.hpp>

namespace util {

template <class Call>
auto retry_eintr(Call&& call) -> decltype(call()) {
    for (;;) {
        try {
            return call();
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) throw;
        }
    }
}

}  // namespace util
