// Prints a run's result: a human-readable summary, or one JSON object whose
// field names are stable (documented in tools/mqtt-bench/README.md; the
// benchmark suite parses them).
//
// Pure formatting; safe from any thread.
#pragma once

#include <ostream>

#include "tools/mqtt-bench/options.hpp"
#include "tools/mqtt-bench/run.hpp"

namespace bench {

void print_text(std::ostream& out, const bench_options& o, const run_result& r);
void print_json(std::ostream& out, const bench_options& o, const run_result& r);

}  // namespace bench
