// JSON text of a boost::json value, with numbers as people write them.
//
// boost::json::serialize writes every double in an exponent form of its own
// (100.0 as "1E2", 0.5 as "5E-1", 39.39 as "3.939E1"): valid JSON, but not
// what a person reading a health report or a table's constraints expects.
// This writer gives a double its shortest form that reads back to the same
// value (std::to_chars: "100", "0.5", "39.39", "1e+300"), and a double JSON
// cannot hold (NaN, infinity) as null. Strings, integers, booleans, null,
// arrays and objects come out as boost::json::serialize writes them, object
// members in their order, with no whitespace.
//
// Thread-safe; allocates only by growing its output.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace duckmesh {

std::string to_json_text(const boost::json::value& value);
void append_json_text(std::string& out, const boost::json::value& value);

}  // namespace duckmesh
