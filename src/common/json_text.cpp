#include "common/json_text.hpp"

#include <charconv>
#include <cmath>

#include "common/json_string.hpp"

namespace duckmesh {
namespace {

template <class Number>
void append_number(std::string& out, Number n) {
  char buf[32];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
}

}  // namespace

void append_json_text(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += value.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: append_number(out, value.get_int64()); return;
    case boost::json::kind::uint64: append_number(out, value.get_uint64()); return;
    case boost::json::kind::double_: {
      const double d = value.get_double();
      if (std::isfinite(d)) {
        append_number(out, d);
      } else {
        out += "null";
      }
      return;
    }
    case boost::json::kind::string: append_json_string(out, value.get_string()); return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, item);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, member.key());
        out += ':';
        append_json_text(out, member.value());
      }
      out += '}';
      return;
    }
  }
}

std::string to_json_text(const boost::json::value& value) {
  std::string out;
  append_json_text(out, value);
  return out;
}

}  // namespace duckmesh
