// File pruning: skip data files whose recorded column statistics prove they
// hold no row a query wants, before DuckDB opens them.
//
// The statement is parsed by DuckDB itself (json_serialize_sql). Only the
// simplest, provably safe shape is used: a top-level SELECT over one base
// table (no joins, no CTEs) whose WHERE is a conjunction containing
// comparisons `column {=,<,<=,>,>=} constant` or `column BETWEEN c1 AND c2`
// on numeric or varchar columns. Anything else prunes nothing. For keyed
// tables only primary-key columns prune (every version of a key carries the
// key, so no older version can resurface).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog_repo.hpp"
#include "duck/connection.hpp"

namespace duckmesh::query {

struct Predicate {
  enum class Op { eq, lt, le, gt, ge };
  std::string column;
  Op op = Op::eq;
  std::optional<long double> number;  // numeric constant
  std::optional<std::string> text;    // string constant
};

// Table name -> predicates on it. Empty when nothing can be pruned safely.
std::map<std::string, std::vector<Predicate>> extract_predicates(duck::Connection& conn,
                                                                 std::string_view sql);

// False only when the file's statistics prove no row satisfies every
// predicate. `numeric_columns`/`text_columns` name the columns whose
// statistics compare as numbers / as strings.
bool file_may_match(const catalog::DataFile& file, const std::vector<Predicate>& predicates,
                    const std::vector<std::string>& numeric_columns,
                    const std::vector<std::string>& text_columns);

}  // namespace duckmesh::query
