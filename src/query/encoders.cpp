#include "query/encoders.hpp"

#include <boost/json/array.hpp>

#include "common/error.hpp"
#include "query/encoders/arrow.hpp"
#include "query/encoders/row_encoders.hpp"

namespace duckmesh::query {

Format format_from_string(std::string_view name) {
  if (name == "json") return Format::json;
  if (name == "ndjson") return Format::ndjson;
  if (name == "csv") return Format::csv;
  if (name == "parquet") return Format::parquet;
  if (name == "arrow") return Format::arrow;
  throw Error(ErrorCode::invalid_input,
              "unknown result format '" + std::string(name) +
                  "'; allowed: json, ndjson, csv, parquet, arrow",
              {{"format", std::string(name)},
               {"allowed", boost::json::array{"json", "ndjson", "csv", "parquet", "arrow"}}});
}

std::string_view to_string(Format format) {
  switch (format) {
    case Format::json: return "json";
    case Format::ndjson: return "ndjson";
    case Format::csv: return "csv";
    case Format::parquet: return "parquet";
    case Format::arrow: return "arrow";
  }
  return "json";
}

std::string_view content_type(Format format) {
  switch (format) {
    case Format::json: return "application/json";
    case Format::ndjson: return "application/x-ndjson";
    case Format::csv: return "text/csv; charset=utf-8; header=present";
    case Format::parquet: return "application/vnd.apache.parquet";
    case Format::arrow: return "application/vnd.apache.arrow.stream";
  }
  return "application/octet-stream";
}

OutputBuffer::OutputBuffer(ResultSink& sink, std::size_t flush_bytes)
    : sink_(sink), flush_bytes_(flush_bytes) {
  // Room for a full block plus the row that crosses the threshold.
  buffer_.reserve(flush_bytes_ + flush_bytes_ / 4);
}

void OutputBuffer::flush() {
  if (held_ || buffer_.empty()) return;
  sink_.write(buffer_);
  written_ += buffer_.size();
  buffer_.clear();
}

std::unique_ptr<RowEncoder> make_row_encoder(Format format, OutputBuffer& out) {
  switch (format) {
    case Format::json: return encoding::make_json_encoder(out);
    case Format::ndjson: return encoding::make_ndjson_encoder(out);
    case Format::csv: return encoding::make_csv_encoder(out);
    case Format::arrow: return encoding::make_arrow_encoder(out);
    case Format::parquet: break;
  }
  throw Error(ErrorCode::internal, "parquet results are written by DuckDB, not a row encoder");
}

}  // namespace duckmesh::query
