// RocksDB statuses as store error codes, and as one line of text.
//
// Internal to store/. Pure functions; safe from any thread.
#pragma once

#include <rocksdb/status.h>

#include <boost/system/error_code.hpp>
#include <string>

namespace store {

// ok -> clear; NoSpace, ENOSPC/EDQUOT/EFBIG -> no_space; Corruption ->
// corruption; EACCES/EPERM -> permission_denied; a lock conflict -> busy;
// InvalidArgument -> invalid_argument; anything else -> io_error.
boost::system::error_code to_error(const rocksdb::Status& s);

// s.ToString() on one line.
std::string describe(const rocksdb::Status& s);

// Text on one line: newlines and tabs become spaces, runs of spaces one.
std::string one_line(std::string text);

}  // namespace store
