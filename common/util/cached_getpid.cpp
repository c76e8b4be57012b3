// getpid() answered from memory, for the broker's executables only: they
// link the mqtt_cached_getpid object library (common/CMakeLists.txt), so
// that this definition takes the C library's place, for libzmq too.
//
// Why: libzmq, built with HAVE_FORK as Debian's is, calls getpid() at every
// operation of a socket's signaler (a send that wakes a peer, every receive
// that finds nothing) to notice a fork, and glibc makes each call a system
// call. In mqtt-broker that was 6 to 10 system calls per message at p2p QoS 1
// (docs/benchmarks.md, update of 2026-11-27 14:40-15:55).
//
// The process id changes only in the child of a fork: a pthread_atfork
// handler, registered during static initialisation, refreshes it there.
// Until that registration succeeded (and if it failed), every call asks the
// kernel. vfork and posix_spawn children run no fork handlers, but they exec
// without calling getpid.
//
// Any thread may call it: the cached id is an atomic (0: ask the kernel).
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

[[maybe_unused]] const bool caching = [] {
    if (::pthread_atfork(nullptr, nullptr, refresh_after_fork) != 0) return false;
    refresh_after_fork();
    return true;
}();

}  // namespace

extern "C" pid_t getpid() noexcept {
    const pid_t pid = cached_pid.load(std::memory_order_relaxed);
    return pid != 0 ? pid : ask_kernel();
}
