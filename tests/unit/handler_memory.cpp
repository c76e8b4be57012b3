// frontend::handler_memory: freed blocks are reused by size, bounded, and
// Asio really takes a wrapped handler's operation from it.
#include "frontend/net/handler_memory.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>
#include <vector>

using memory = frontend::handler_memory;

BOOST_AUTO_TEST_SUITE(handler_memory)

BOOST_AUTO_TEST_CASE(a_freed_block_serves_the_next_request_of_its_size) {
    void* a = memory::allocate(100);
    const auto before = memory::free_blocks();
    memory::deallocate(a, 100);
    if (!memory::pooled()) {  // AddressSanitizer: straight back to the heap
        BOOST_TEST(memory::free_blocks() == before);
        return;
    }
    BOOST_TEST(memory::free_blocks() == before + 1);
    // 97..112 bytes share a size step (the last freed is served first);
    // 113 does not.
    void* other = memory::allocate(113);
    BOOST_TEST(other != a);
    void* b = memory::allocate(97);
    BOOST_TEST(b == a);
    memory::deallocate(b, 97);
    memory::deallocate(other, 113);
}

BOOST_AUTO_TEST_CASE(large_blocks_and_surplus_go_back_to_the_heap) {
    const auto before = memory::free_blocks();
    void* big = memory::allocate(memory::max_pooled_size + 1);
    memory::deallocate(big, memory::max_pooled_size + 1);
    BOOST_TEST(memory::free_blocks() == before);

    // Many blocks of one size freed at once: at most max_free_per_size stay.
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < memory::max_free_per_size + 50; ++i)
        blocks.push_back(memory::allocate(40));
    const auto held = memory::free_blocks();
    for (void* p : blocks) memory::deallocate(p, 40);
    if (memory::pooled())
        BOOST_TEST(memory::free_blocks() <= held + memory::max_free_per_size);
    else
        BOOST_TEST(memory::free_blocks() == held);
}

BOOST_AUTO_TEST_CASE(asio_takes_a_wrapped_handlers_operation_from_it) {
    boost::asio::io_context io;
    bool ran = false;
    boost::asio::post(io, frontend::with_handler_memory([&] { ran = true; }));
    const auto before = memory::free_blocks();
    io.run();
    BOOST_TEST(ran);
    // The operation's block came back here once it completed.
    if (memory::pooled()) BOOST_TEST(memory::free_blocks() == before + 1);
}

BOOST_AUTO_TEST_CASE(asio_takes_a_wrapped_waits_operation_from_it) {
    // As a socket wait (the transports' main use): a reactor operation.
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io, std::chrono::milliseconds(1));
    bool ran = false;
    timer.async_wait(
        frontend::with_handler_memory([&](const boost::system::error_code&) { ran = true; }));
    const auto before = memory::free_blocks();
    io.run();
    BOOST_TEST(ran);
    if (memory::pooled()) BOOST_TEST(memory::free_blocks() == before + 1);
}

BOOST_AUTO_TEST_SUITE_END()
