// common/util/cached_getpid.cpp, linked into this binary as into the broker's
// executables: getpid() answers the kernel's process id, also in the child of
// a fork (the pthread_atfork handler), and libzmq's sockets work with it.
#include <dlfcn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <zmq.hpp>

namespace {

pid_t kernel_pid() {
    return static_cast<pid_t>(::syscall(SYS_getpid));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(process_cached_getpid)

BOOST_AUTO_TEST_CASE(takes_the_c_librarys_place) {
    // What libzmq's calls bind to is this binary's definition, not glibc's.
    void* const bound = ::dlsym(RTLD_DEFAULT, "getpid");
    void* const libc = ::dlsym(RTLD_NEXT, "getpid");
    BOOST_TEST(bound == reinterpret_cast<void*>(&getpid));
    BOOST_TEST(libc != nullptr);
    BOOST_TEST(bound != libc);
}

BOOST_AUTO_TEST_CASE(answers_the_kernels_process_id) {
    BOOST_TEST(getpid() == kernel_pid());
    BOOST_TEST(getpid() == getpid());
}

BOOST_AUTO_TEST_CASE(a_forked_child_gets_its_own_id) {
    const pid_t parent = getpid();
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        // No Boost.Test here: the exit status is the verdict.
        const bool ok = getpid() == kernel_pid() && getpid() != parent && getppid() == parent;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
    BOOST_TEST(getpid() == parent);
}

BOOST_AUTO_TEST_CASE(zeromq_inproc_pairs_work_with_it) {
    zmq::context_t ctx{1};
    zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
    a.bind("inproc://process_cached_getpid");
    b.connect("inproc://process_cached_getpid");
    b.set(zmq::sockopt::rcvtimeo, 5000);  // a failure, not a hang until ctest's timeout
    for (int i = 0; i < 100; ++i) {
        const std::string text = "m" + std::to_string(i);
        BOOST_TEST_REQUIRE(a.send(zmq::buffer(text), zmq::send_flags::none).has_value());
        zmq::message_t m;
        BOOST_TEST_REQUIRE(b.recv(m, zmq::recv_flags::none).has_value());
        BOOST_TEST(m.to_string() == text);
        zmq::message_t none;
        BOOST_TEST(!b.recv(none, zmq::recv_flags::dontwait).has_value());  // drained
    }
}

BOOST_AUTO_TEST_SUITE_END()
