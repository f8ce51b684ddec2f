// Result encodings of the query plane: how rows leave DuckDB as bytes.
//
// Rows are encoded chunk by chunk into an OutputBuffer, which hands the
// bytes to a ResultSink about every 64 KiB, so a result is never held whole
// in memory. Value rules shared by every text encoding:
//   * integers as numbers, except that BIGINT, UBIGINT, HUGEINT and
//     UHUGEINT values beyond +-2^53 (where JSON readers lose precision)
//     are strings in JSON; DECIMAL always as its exact text, a string in
//     JSON;
//   * FLOAT/DOUBLE as the shortest text that reads back to the same value;
//     NaN and infinities as "NaN", "Infinity", "-Infinity";
//   * DATE as "YYYY-MM-DD"; TIMESTAMP (all precisions) and TIMESTAMPTZ as
//     RFC 3339 in UTC ("2026-11-25T10:00:00Z", fraction only when not
//     zero); DuckDB's infinite dates and timestamps as "infinity" and
//     "-infinity";
//   * LIST/ARRAY as arrays, STRUCT as objects, MAP as an object keyed by the
//     keys' text (CSV writes the JSON text of these);
//   * TIME, TIMETZ, INTERVAL, UUID, BLOB, UHUGEINT text and ENUM as DuckDB's
//     own text; VARCHAR as is;
//   * NULL as null (JSON) or an empty field (CSV; an empty string is "").
// Types the DuckDB reader cannot read (UNION, BIT, BIGNUM, TIME_NS) fail
// with Error(invalid_input) naming the type, so the author can cast.
// The Arrow IPC stream (arrow) keeps native types where Arrow has them and
// sends the others as their DuckDB text; see query/encoders/arrow.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duck/data_chunk.hpp"

namespace duckmesh::query {

enum class Format { json, ndjson, csv, parquet, arrow };

// "json", "ndjson", "csv", "parquet", "arrow" (the Arrow IPC stream).
// Throws Error(invalid_input) naming the allowed values for anything else.
Format format_from_string(std::string_view name);
std::string_view to_string(Format format);
// The HTTP Content-Type of an encoding.
std::string_view content_type(Format format);

struct ColumnInfo {
  std::string name;
  // DuckDB's spelling of the type ("BIGINT", "DECIMAL(38,10)", "INTEGER[]").
  std::string type;

  friend bool operator==(const ColumnInfo&, const ColumnInfo&) = default;
};

// Where encoded bytes go; the HTTP layer streams them (chunked). write()
// may throw to abandon the query (e.g. when the client went away); the
// exception propagates out of run_query.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void write(std::string_view bytes) = 0;
};

// Collects everything in memory; for tests and small internal results.
class StringSink : public ResultSink {
 public:
  void write(std::string_view bytes) override {
    data.append(bytes);
    ++writes;
  }

  std::string data;
  // How many write() calls delivered `data`.
  std::size_t writes = 0;
};

// Bytes on their way to a ResultSink. Encoders append to buffer() and call
// maybe_flush() after each row; the buffer goes to the sink once it holds
// `flush_bytes`. While held, nothing goes to the sink (the executor holds
// output when a later error must still be reportable as a whole response).
class OutputBuffer {
 public:
  static constexpr std::size_t kDefaultFlushBytes = 64 * 1024;

  explicit OutputBuffer(ResultSink& sink, std::size_t flush_bytes = kDefaultFlushBytes);

  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (!held_ && buffer_.size() >= flush_bytes_) flush();
  }
  // Sends whatever is buffered, unless held.
  void flush();
  void hold(bool held) { held_ = held; }
  // Bytes handed to the sink so far.
  std::size_t bytes_written() const { return written_; }

 private:
  ResultSink& sink_;
  std::size_t flush_bytes_;
  std::string buffer_;
  bool held_ = false;
  std::size_t written_ = 0;
};

// Encodes one result: begin(), rows() for each chunk, end().
class RowEncoder {
 public:
  virtual ~RowEncoder() = default;
  virtual void begin(const std::vector<ColumnInfo>& columns) = 0;
  // Encodes rows [0, count) of `chunk`. REQUIRES: count <= chunk.size().
  virtual void rows(const duck::DataChunk& chunk, std::size_t count) = 0;
  // `extra_fields` is the JSON text of members to append to the envelope
  // (`"snapshot_id":7,...`, without braces); only JSON has an envelope.
  virtual void end(std::size_t row_count, bool truncated, double elapsed_ms,
                   std::string_view extra_fields) = 0;
};

// The encoder of json, ndjson, csv or arrow, writing into `out`. Parquet is not a
// row encoding (DuckDB writes the file); asking for it throws
// Error(internal).
std::unique_ptr<RowEncoder> make_row_encoder(Format format, OutputBuffer& out);

}  // namespace duckmesh::query
