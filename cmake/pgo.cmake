# Profile-guided optimisation with GCC (included by the top-level CMakeLists.txt).
#
#   -DMQTT_PGO=generate -DMQTT_PGO_DIR=DIR   instrumented build: its programs
#                                           write their profile (.gcda files)
#                                           to DIR when they exit
#   -DMQTT_PGO=use -DMQTT_PGO_DIR=DIR       optimised with the profile in DIR
#       -DMQTT_PGO_ID=TEXT                  names that profile (a hash of it):
#                                           part of every compile command, so
#                                           Ninja compiles again when the
#                                           profile changes. (ccache 4.7 does
#                                           not cache these compiles at all:
#                                           it refuses the unknown
#                                           -fprofile-partial-training and
#                                           -fprofile-prefix-path.)
#
# scripts/build.sh does both (and scripts/pgo-train.sh runs the training
# workload in between); docs/architecture.md "Build" says why. The .gcda
# names are the object files' paths relative to the build directory
# (-fprofile-prefix-path), so the instrumented build may live in another
# directory than the one that uses its profile.
#
# Functions the training never ran are compiled as without a profile
# (-fprofile-partial-training), not for size; in functions it did run, the
# branches it never took are laid out as cold. A source edited after the
# training compiles with what still matches of the profile
# (-Wno-coverage-mismatch: a warning, not an error). -fprofile-correction
# smooths counts that a thread still running at exit left inconsistent
# (without it GCC refuses such a profile).

set(MQTT_PGO "off" CACHE STRING "Profile-guided optimisation: off, generate or use")
set(MQTT_PGO_DIR "" CACHE PATH "Profile directory for MQTT_PGO=generate|use")
set(MQTT_PGO_ID "" CACHE STRING "Identifies the profile of MQTT_PGO=use (scripts/build.sh: its hash)")
set_property(CACHE MQTT_PGO PROPERTY STRINGS off generate use)

if(NOT MQTT_PGO STREQUAL "off")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "MQTT_PGO=${MQTT_PGO} needs GCC (this is ${CMAKE_CXX_COMPILER_ID})")
  endif()
  if(MQTT_PGO_DIR STREQUAL "")
    message(FATAL_ERROR "MQTT_PGO=${MQTT_PGO} needs MQTT_PGO_DIR (the profile directory)")
  endif()
  if(MQTT_SANITIZE OR MQTT_FUZZ)
    message(FATAL_ERROR "MQTT_PGO does not mix with MQTT_SANITIZE or MQTT_FUZZ")
  endif()
endif()

if(MQTT_PGO STREQUAL "generate")
  # prefer-atomic: several of a program's threads may run the same code;
  # atomic counters keep the profile exact, at a cost only the training pays.
  add_compile_options(-fprofile-generate=${MQTT_PGO_DIR} -fprofile-update=prefer-atomic
                      -fprofile-prefix-path=${CMAKE_BINARY_DIR})
  add_link_options(-fprofile-generate=${MQTT_PGO_DIR})
elseif(MQTT_PGO STREQUAL "use")
  if(NOT IS_DIRECTORY "${MQTT_PGO_DIR}")
    message(FATAL_ERROR "MQTT_PGO_DIR ${MQTT_PGO_DIR} is not a directory (scripts/build.sh trains it)")
  endif()
  add_compile_options(-fprofile-use=${MQTT_PGO_DIR} -fprofile-partial-training -fprofile-correction
                      -fprofile-prefix-path=${CMAKE_BINARY_DIR} -Wno-missing-profile
                      -Wno-coverage-mismatch)
  add_compile_definitions(MQTT_PGO_PROFILE="${MQTT_PGO_ID}")
elseif(NOT MQTT_PGO STREQUAL "off")
  message(FATAL_ERROR "MQTT_PGO must be off, generate or use (not '${MQTT_PGO}')")
endif()
