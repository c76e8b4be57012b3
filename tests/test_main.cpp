// The Boost.Test runner shared (as one shared library) by every test binary.
#define BOOST_TEST_MODULE iot_mqtt_server
#include <boost/test/unit_test.hpp>
