// Batches of events read from an input stream, as NDJSON request bodies.
//
// A batch ends after `max_events` events, or before the event that would
// take its body past `max_bytes` (a single larger event still gets a batch
// of its own). Batching is deterministic: the same input and limits give the
// same batches, which is what makes the Idempotency-Key of a batch (derived
// from its first line) stable across runs.
//
// Each event remembers the 1-based line of the input it starts on, so the
// server's rejections (by index within the request) can be reported by line.
#pragma once

#include <boost/json/array.hpp>
#include <cstddef>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "client/csv_events.hpp"
#include "client/csv_reader.hpp"

namespace duckmesh::client {

struct Batch {
  std::string body;                // one JSON event per line
  std::vector<std::size_t> lines;  // input line of each event, by index in the body
  std::size_t bytes_read = 0;      // input bytes consumed up to the end of this batch

  std::size_t size() const { return lines.size(); }
  std::size_t first_line() const { return lines.empty() ? 0 : lines.front(); }
  // The input line of the event at `index` in the request, or 0 if out of range.
  std::size_t line_of(std::size_t index) const { return index < lines.size() ? lines[index] : 0; }
};

struct BatchLimits {
  std::size_t max_events = 1000;
  std::size_t max_bytes = 8u << 20;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Fills `batch` with the next events; false when the input is exhausted
  // (and `batch` is empty). Throws duckmesh::Error (invalid_input) naming
  // the line on unreadable input.
  virtual bool next(Batch& batch) = 0;
};

// NDJSON: one event per line. Lines holding only whitespace are skipped; a
// trailing CR is dropped. Events are passed on as written: the server
// validates them.
class NdjsonBatchSource final : public BatchSource {
 public:
  NdjsonBatchSource(std::istream& in, BatchLimits limits);
  bool next(Batch& batch) override;

 private:
  std::istream& in_;
  BatchLimits limits_;
  std::size_t line_ = 0;
  std::size_t bytes_read_ = 0;
  std::string pending_;  // an event read but not fitting the previous batch
  std::size_t pending_line_ = 0;
};

// CSV: the first record is the header; each further record becomes one
// event, typed by `columns` (see CsvEventEncoder). Throws invalid_input on
// construction when the input has no header.
class CsvBatchSource final : public BatchSource {
 public:
  CsvBatchSource(std::istream& in, BatchLimits limits, const boost::json::array& columns);
  bool next(Batch& batch) override;

 private:
  CsvReader reader_;
  BatchLimits limits_;
  std::unique_ptr<CsvEventEncoder> encoder_;
  std::vector<CsvField> record_;
  std::string pending_;
  std::size_t pending_line_ = 0;
};

}  // namespace duckmesh::client
