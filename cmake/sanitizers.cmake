# Sanitizer and libFuzzer builds (included by the top-level CMakeLists.txt).
#
#   -DMQTT_SANITIZE=address,undefined   ASan + UBSan for every target
#   -DMQTT_SANITIZE=thread              TSan for every target
#   -DMQTT_FUZZ=ON                      clang only: also builds tests/fuzz, and
#                                       implies address,undefined unless
#                                       MQTT_SANITIZE says otherwise; the
#                                       libraries the fuzz targets exercise get
#                                       -fsanitize=fuzzer-no-link (coverage for
#                                       libFuzzer; tests/fuzz/CMakeLists.txt).
#                                       The tests of such a build run as in any
#                                       ASan+UBSan build (scripts/sanitize.sh).
#   -DMQTT_SANITIZE_QUICK=ON            sanitizer builds for CI (scripts/sanitize.sh):
#                                       -gline-tables-only instead of -g (stacks
#                                       keep file:line) and, instead of -O2,
#                                       -O0 for ASan/UBSan (about 40 % less
#                                       compile time than -O1, and the suite
#                                       ran no slower: it waits on sockets more
#                                       than it computes) or -O1 for TSan (at
#                                       -O0 its tests would crawl)
#
# Undefined behaviour aborts instead of printing and going on. scripts/sanitize.sh
# and scripts/fuzz.sh choose these; the runtime options are set there.

set(MQTT_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list for every target (empty: none)")
option(MQTT_FUZZ "Build the libFuzzer targets in tests/fuzz (clang)" OFF)
option(MQTT_SANITIZE_QUICK "Sanitizer builds: -gline-tables-only, -O0 (ASan) or -O1 (TSan)" OFF)

set(mqtt_sanitize "${MQTT_SANITIZE}")
if(MQTT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MQTT_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++)")
  endif()
  if(mqtt_sanitize MATCHES "thread")
    message(FATAL_ERROR "MQTT_FUZZ goes with address,undefined, not with thread")
  endif()
  if(NOT mqtt_sanitize)
    set(mqtt_sanitize "address,undefined")
  endif()
endif()

if(mqtt_sanitize)
  add_compile_options(-fsanitize=${mqtt_sanitize} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${mqtt_sanitize})
  if(mqtt_sanitize MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(MQTT_SANITIZE_QUICK)
    # After the build type's flags on the command line, so these win.
    if(mqtt_sanitize MATCHES "thread")
      add_compile_options(-O1)
    else()
      add_compile_options(-O0)
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      add_compile_options(-gline-tables-only)
    else()
      add_compile_options(-g1)
    endif()
  endif()
endif()
