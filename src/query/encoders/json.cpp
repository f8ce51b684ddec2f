#include <string>
#include <vector>

#include "common/json_string.hpp"
#include "query/encoders/cells.hpp"
#include "query/encoders/row_encoders.hpp"

namespace duckmesh::query::encoding {
namespace {

std::vector<duck::VectorReader> readers(const duck::DataChunk& chunk) {
  std::vector<duck::VectorReader> columns;
  columns.reserve(chunk.column_count());
  for (idx_t c = 0; c < chunk.column_count(); ++c) columns.push_back(chunk.column(c));
  return columns;
}

class JsonEncoder final : public RowEncoder {
 public:
  explicit JsonEncoder(OutputBuffer& out) : out_(out) {}

  void begin(const std::vector<ColumnInfo>& columns) override {
    std::string& b = out_.buffer();
    b += "{\"columns\":[";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) b.push_back(',');
      b += "{\"name\":";
      append_json_string(b, columns[c].name);
      b += ",\"type\":";
      append_json_string(b, columns[c].type);
      b.push_back('}');
    }
    b += "],\"rows\":[";
  }

  void rows(const duck::DataChunk& chunk, std::size_t count) override {
    const std::vector<duck::VectorReader> columns = readers(chunk);
    std::string& b = out_.buffer();
    for (std::size_t r = 0; r < count; ++r) {
      if (!first_row_) b.push_back(',');
      first_row_ = false;
      b.push_back('[');
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c > 0) b.push_back(',');
        append_json_value(b, columns[c], r);
      }
      b.push_back(']');
      out_.maybe_flush();
    }
  }

  void end(std::size_t row_count, bool truncated, double elapsed_ms,
           std::string_view extra_fields) override {
    std::string& b = out_.buffer();
    b += "],\"row_count\":";
    b += std::to_string(row_count);
    b += ",\"truncated\":";
    b += truncated ? "true" : "false";
    b += ",\"elapsed_ms\":";
    append_fixed3(b, elapsed_ms);
    if (!extra_fields.empty()) {
      b.push_back(',');
      b += extra_fields;
    }
    b.push_back('}');
  }

 private:
  OutputBuffer& out_;
  bool first_row_ = true;
};

class NdjsonEncoder final : public RowEncoder {
 public:
  explicit NdjsonEncoder(OutputBuffer& out) : out_(out) {}

  void begin(const std::vector<ColumnInfo>& columns) override {
    // `{"a":` and `,"b":` once, instead of escaping names on every row.
    for (std::size_t c = 0; c < columns.size(); ++c) {
      std::string prefix = c == 0 ? "{" : ",";
      append_json_string(prefix, columns[c].name);
      prefix.push_back(':');
      prefixes_.push_back(std::move(prefix));
    }
  }

  void rows(const duck::DataChunk& chunk, std::size_t count) override {
    const std::vector<duck::VectorReader> columns = readers(chunk);
    std::string& b = out_.buffer();
    for (std::size_t r = 0; r < count; ++r) {
      if (columns.empty()) b.push_back('{');
      for (std::size_t c = 0; c < columns.size(); ++c) {
        b += prefixes_[c];
        append_json_value(b, columns[c], r);
      }
      b += "}\n";
      out_.maybe_flush();
    }
  }

  void end(std::size_t, bool, double, std::string_view) override {}

 private:
  OutputBuffer& out_;
  std::vector<std::string> prefixes_;
};

}  // namespace

std::unique_ptr<RowEncoder> make_json_encoder(OutputBuffer& out) {
  return std::make_unique<JsonEncoder>(out);
}

std::unique_ptr<RowEncoder> make_ndjson_encoder(OutputBuffer& out) {
  return std::make_unique<NdjsonEncoder>(out);
}

}  // namespace duckmesh::query::encoding
