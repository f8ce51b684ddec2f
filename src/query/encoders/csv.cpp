#include <string>
#include <vector>

#include "query/encoders/cells.hpp"
#include "query/encoders/row_encoders.hpp"

namespace duckmesh::query::encoding {
namespace {

class CsvEncoder final : public RowEncoder {
 public:
  explicit CsvEncoder(OutputBuffer& out) : out_(out) {}

  void begin(const std::vector<ColumnInfo>& columns) override {
    std::string& b = out_.buffer();
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) b.push_back(',');
      append_csv_text(b, columns[c].name);
    }
    b += "\r\n";
  }

  void rows(const duck::DataChunk& chunk, std::size_t count) override {
    std::vector<duck::VectorReader> columns;
    columns.reserve(chunk.column_count());
    for (idx_t c = 0; c < chunk.column_count(); ++c) columns.push_back(chunk.column(c));
    std::string& b = out_.buffer();
    for (std::size_t r = 0; r < count; ++r) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c > 0) b.push_back(',');
        append_csv_field(b, scratch_, columns[c], r);
      }
      b += "\r\n";
      out_.maybe_flush();
    }
  }

  void end(std::size_t, bool, double, std::string_view) override {}

 private:
  OutputBuffer& out_;
  std::string scratch_;
};

}  // namespace

std::unique_ptr<RowEncoder> make_csv_encoder(OutputBuffer& out) {
  return std::make_unique<CsvEncoder>(out);
}

}  // namespace duckmesh::query::encoding
