#include "client/batch_source.hpp"

#include "common/error.hpp"

namespace duckmesh::client {
namespace {

bool blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Adds `event` to `batch` unless the batch is full; returns false (adding
// nothing) when the event must start the next batch.
bool add_event(Batch& batch, const BatchLimits& limits, std::string& event, std::size_t line) {
  if (!batch.lines.empty() && (batch.lines.size() >= limits.max_events ||
                               batch.body.size() + event.size() + 1 > limits.max_bytes)) {
    return false;
  }
  batch.body += event;
  batch.body += '\n';
  batch.lines.push_back(line);
  return true;
}

void reset(Batch& batch) {
  batch.body.clear();
  batch.lines.clear();
}

}  // namespace

NdjsonBatchSource::NdjsonBatchSource(std::istream& in, BatchLimits limits)
    : in_(in), limits_(limits) {}

bool NdjsonBatchSource::next(Batch& batch) {
  reset(batch);
  if (!pending_.empty()) {
    add_event(batch, limits_, pending_, pending_line_);
    pending_.clear();
  }
  std::string line;
  while (batch.lines.size() < limits_.max_events && std::getline(in_, line)) {
    ++line_;
    bytes_read_ += line.size() + (in_.eof() ? 0 : 1);
    if (blank(line)) continue;
    if (line.back() == '\r') line.pop_back();
    if (!add_event(batch, limits_, line, line_)) {
      pending_ = std::move(line);
      pending_line_ = line_;
      break;
    }
  }
  if (in_.bad()) {
    throw Error(ErrorCode::invalid_input,
                "reading the input failed after line " + std::to_string(line_));
  }
  batch.bytes_read = bytes_read_;
  return !batch.lines.empty();
}

CsvBatchSource::CsvBatchSource(std::istream& in, BatchLimits limits,
                               const boost::json::array& columns)
    : reader_(in), limits_(limits) {
  std::vector<CsvField> header;
  if (!reader_.next(header)) {
    throw Error(ErrorCode::invalid_input,
                "the CSV input is empty; its first line must name the columns");
  }
  encoder_ = std::make_unique<CsvEventEncoder>(header, columns);
}

bool CsvBatchSource::next(Batch& batch) {
  reset(batch);
  if (!pending_.empty()) {
    add_event(batch, limits_, pending_, pending_line_);
    pending_.clear();
  }
  std::string event;
  while (batch.lines.size() < limits_.max_events && reader_.next(record_)) {
    event.clear();
    encoder_->encode(record_, reader_.record_line(), event);
    if (!add_event(batch, limits_, event, reader_.record_line())) {
      pending_ = std::move(event);
      pending_line_ = reader_.record_line();
      break;
    }
  }
  batch.bytes_read = reader_.bytes_read();
  return !batch.lines.empty();
}

}  // namespace duckmesh::client
