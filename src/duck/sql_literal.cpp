#include "duck/sql_literal.hpp"

namespace duckmesh::duck {

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace duckmesh::duck
