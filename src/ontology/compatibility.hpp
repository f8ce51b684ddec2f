// Schema compatibility: may a table move from its current schema to a new
// one published by the ontology?
//
// Old data files keep the schema they were written with and are read under
// the new one (new columns read as NULL, values cast to the new type), so:
//
//   change                           backward  forward  full  none
//   add an optional column              ok        ok     ok    ok
//   add a required column               no        no     no    ok
//   drop a column                       no        no     no    ok
//   widen a type (int→bigint, larger    ok        no     no    ok
//     decimal, longer/unbounded varchar)
//   narrow or change a type             no        no     no    ok
//   required → optional                 ok        no     no    ok
//   optional → required                 no        ok     no    ok
//   loosen a rule (enum value added,    ok        no     no    ok
//     wider range, longer max_length, pattern dropped)
//   tighten a rule (the reverse, or a   no        ok     no    ok
//     changed pattern)
//   description, pii, default           ok        ok     ok    ok
//
// "backward" (the default): readers of the new schema read all old data.
// "forward": readers of the old schema read data written under the new one.
// "full": both. "none": no check. A refused change is applied anyway when
// forced; the report still says what was refused and why.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "schema/table_schema.hpp"

namespace duckmesh::ontology {

enum class Compatibility { backward, forward, full, none };
std::string_view to_string(Compatibility mode);
// invalid_input naming the allowed values.
Compatibility compatibility_from_string(std::string_view text);

struct SchemaChange {
  std::string column;
  std::string change;  // added | dropped | type_changed | nullability_changed | rule_changed |
                       // metadata_changed
  std::string from;    // before, for messages ("integer", "required", ...)
  std::string to;
  bool allowed = true;
  std::string reason;  // why it is allowed or refused, in words
};

struct CompatibilityReport {
  Compatibility mode = Compatibility::backward;
  std::vector<SchemaChange> changes;
  bool compatible() const;  // no refused change
  bool unchanged() const { return changes.empty(); }
  boost::json::object to_json() const;
};

CompatibilityReport check_compatibility(const schema::TableSchema& current,
                                        const schema::TableSchema& proposed, Compatibility mode);

}  // namespace duckmesh::ontology
