// ColumnType: the closed set of column types a table may declare.
//
// Types arrive as text (from a table definition or the ontology server, e.g.
// "DECIMAL(20,2)", "CHAR(3)", "timestamptz", "INTEGER[]") and are parsed into
// this structure; the SQL that DuckDB sees is generated from the structure,
// never copied from the input.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace duckmesh::schema {

enum class TypeKind {
  boolean,
  integer,  // 32-bit
  bigint,   // 64-bit
  double_,
  decimal,  // precision 1..38, scale 0..precision
  varchar,  // optional max length (CHAR(n) / VARCHAR(n))
  date,
  timestamp,    // without time zone, microseconds
  timestamptz,  // with time zone, stored as UTC
  uuid,
  json,
  list,  // of `element`
};

struct ColumnType {
  TypeKind kind = TypeKind::varchar;
  int precision = 0;                          // decimal
  int scale = 0;                              // decimal
  int max_length = 0;                         // varchar; 0 = unbounded
  bool fixed_length = false;                  // CHAR(n): exactly n characters
  std::shared_ptr<const ColumnType> element;  // list

  // Parses a type literal, case-insensitively. Accepts BOOLEAN/BOOL,
  // INTEGER/INT/INT4, BIGINT/INT8/LONG, DOUBLE/FLOAT8/FLOAT, DECIMAL(p,s)/
  // NUMERIC(p,s), VARCHAR[(n)]/TEXT/STRING, CHAR(n), DATE, TIMESTAMP,
  // TIMESTAMPTZ/TIMESTAMP WITH TIME ZONE, UUID, JSON, and any of these
  // followed by [] for a list (one level of nesting). invalid_input otherwise,
  // naming what is allowed.
  static ColumnType parse(std::string_view text);

  // The DuckDB type for storage and reading, e.g. "DECIMAL(20,2)", "VARCHAR",
  // "INTEGER[]". Lengths of CHAR/VARCHAR are enforced by validation, so the
  // storage type is plain VARCHAR.
  std::string sql() const;

  // The canonical spelling used in schemas and APIs, e.g. "decimal(20,2)",
  // "char(3)", "varchar(40)", "integer[]".
  std::string name() const;

  bool operator==(const ColumnType& other) const;
};

}  // namespace duckmesh::schema
