// PayloadReader: bus records (binary or JSON object payloads) as typed
// DuckDB rows.
//
// The coordinator hands DuckDB each batch through a duck::RowSource: this
// class reads one record's payload in a single pass and writes its values
// straight into the chunk's column vectors, followed by the hidden system
// columns (_dm_position, _dm_ingested_at, and _dm_op for keyed tables). No
// staging file, and DuckDB parses no JSON.
//
// It reads what ingest's validator writes: binary payloads
// (schema/binary_payload.hpp), whose values are copied as they are when
// their type is the column's and otherwise read as their canonical JSON
// would be; and canonical JSON payloads (ingest/validation.hpp) or, more
// leniently, any JSON object:
//   boolean            true / false
//   integer, bigint    a whole JSON number (1.0 and 1e2 count) in range, or
//                      a string holding one
//   double             a JSON number, or a string holding one
//   decimal(p,s)       a JSON number or string in JSON number syntax with at
//                      most s fraction digits (after dropping trailing
//                      zeros) and p-s integer digits: read exactly, never
//                      through a double
//   varchar            a string (unescaped), or a number/true/false as its
//                      text
//   date               "YYYY-MM-DD"
//   timestamp(tz)      RFC 3339 text, converted to UTC (no offset: UTC)
//   uuid               8-4-4-4-12 hex, any case
// A key naming no column is skipped, whatever its value; a missing column
// or a null is NULL; a repeated key's last value wins; a keyed table's
// "_dm_op" is "upsert" when absent. Payload keys named like the system
// columns are ignored: those values come from the record.
//
// Tables with json or list columns are not supported (supports() says so);
// the coordinator stages those as NDJSON for DuckDB's read_json.
//
// Errors: read() throws Error(invalid_input) naming the record's position,
// the column and what was wrong (or what JSON syntax was broken), so the
// coordinator can isolate and dead-letter the record.
//
// Lifetime: long strings of binary payloads are lent to the chunk, not
// copied (ChunkWriter::set_string_ref): the records read must stay alive
// and unchanged until the statement reading the chunks has finished.
//
// Thread-safety: one reader per thread (it keeps scratch buffers).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/ingest_bus.hpp"
#include "duck/row_source.hpp"
#include "schema/binary_payload.hpp"
#include "schema/table_schema.hpp"

namespace duckmesh::commit {

class PayloadReader {
 public:
  // True when every column of `schema` has a type this reader writes.
  static bool supports(const schema::TableSchema& schema);

  // REQUIRES supports(schema).
  PayloadReader(const schema::TableSchema& schema, bool keyed);
  // Not copyable: by_name_ points into columns_.
  PayloadReader(const PayloadReader&) = delete;
  PayloadReader& operator=(const PayloadReader&) = delete;

  // The schema's columns in order, then the system columns.
  static std::vector<duck::SourceColumn> columns_of(const schema::TableSchema& schema, bool keyed);
  const std::vector<duck::SourceColumn>& columns() const { return columns_; }

  // Writes `record` as row `row` of `out`.
  void read(const bus::Record& record, duck::ChunkWriter& out, idx_t row);

 private:
  struct Target {
    schema::TypeKind kind;
    int precision = 0;
    int scale = 0;
    std::string type_name;  // for messages: "decimal(12,2)"
  };
  struct Cursor;

  void read_json(const bus::Record& record, duck::ChunkWriter& out, idx_t row);
  void read_binary(const bus::Record& record, duck::ChunkWriter& out, idx_t row);
  void write_value(std::size_t column, Cursor& in, duck::ChunkWriter& out, idx_t row);
  // Writes a binary field of the column's own type; false for another type.
  bool write_binary_value(std::size_t column, const schema::BinaryField& field,
                          const bus::Record& record, duck::ChunkWriter& out, idx_t row);
  std::size_t column_of(std::string_view key, std::size_t expected) const;

  std::vector<duck::SourceColumn> columns_;
  std::vector<Target> targets_;      // one per schema column
  std::size_t position_column_ = 0;  // index of _dm_position in columns_
  bool keyed_ = false;
  std::unordered_map<std::string_view, std::size_t> by_name_;  // views into columns_
  std::vector<char> seen_;    // per schema column (+ _dm_op), this row
  std::string scratch_;       // an unescaped string
  std::string key_scratch_;   // an unescaped key
  std::string json_scratch_;  // a binary field's value as JSON
};

}  // namespace duckmesh::commit
