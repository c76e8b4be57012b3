// getpid() answered from memory, for the broker's executables only (each
// lists this file among its sources: it must be in the executable to take
// the place of the C library's).
//
// Why: libzmq, built with HAVE_FORK as Debian's is, calls getpid() at every
// operation of a socket's signaler (a send that wakes a peer, every receive
// that finds nothing) to notice a fork, and glibc makes each call a system
// call. In mqtt-broker that was 6 to 10 system calls per message at p2p QoS 1
// (docs/benchmarks.md, update of 2026-11-27 15:00). The process id changes
// only in the child of a fork: the pthread_atfork handler refreshes it there.
// Nothing in these programs forks without exec.
//
// Any thread may call it: the cached id is an atomic.
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace {

std::atomic<pid_t> cached_pid{0};

pid_t ask_kernel() {
    return static_cast<pid_t>(::syscall(SYS_getpid));
}

void refresh_after_fork() {
    cached_pid.store(ask_kernel(), std::memory_order_relaxed);
}

}  // namespace

extern "C" pid_t getpid() noexcept {
    pid_t pid = cached_pid.load(std::memory_order_relaxed);
    if (pid != 0) return pid;
    static const int registered = ::pthread_atfork(nullptr, nullptr, refresh_after_fork);
    (void)registered;
    pid = ask_kernel();
    cached_pid.store(pid, std::memory_order_relaxed);
    return pid;
}
