#include "client/csv_reader.hpp"

#include "common/error.hpp"

namespace duckmesh::client {
namespace {

constexpr int kEof = std::char_traits<char>::eof();

}  // namespace

CsvReader::CsvReader(std::istream& in) : in_(in.rdbuf()) {}

int CsvReader::get() {
  int c = in_->sbumpc();
  if (c == kEof) return c;
  ++bytes_read_;
  if (c == '\n') ++line_;
  return c;
}

int CsvReader::peek() {
  return in_->sgetc();
}

bool CsvReader::next(std::vector<CsvField>& fields) {
  if (!started_) {
    started_ = true;
    // A UTF-8 byte order mark, as spreadsheet programs write, is not data.
    static constexpr unsigned char kBom[] = {0xEF, 0xBB, 0xBF};
    if (peek() == kBom[0]) {
      std::size_t matched = 0;
      while (matched < 3 && peek() == kBom[matched]) {
        get();
        ++matched;
      }
      if (matched != 3) {
        throw Error(ErrorCode::invalid_input,
                    "line 1: the file starts with bytes that are neither UTF-8 text nor a byte "
                    "order mark",
                    {{"line", 1}});
      }
    }
  }

  fields.clear();
  // Skip lines with nothing on them; they hold no record.
  for (;;) {
    int c = peek();
    if (c == '\n') {
      get();
    } else if (c == '\r') {
      get();
      if (peek() == '\n') get();
    } else {
      break;
    }
  }
  if (peek() == kEof) return false;
  record_line_ = line_;

  CsvField field;
  for (;;) {
    int c = get();
    if (c == '"' && field.text.empty() && !field.quoted) {
      field.quoted = true;
      const std::size_t opened_on = line_;
      for (;;) {
        c = get();
        if (c == kEof) {
          throw Error(ErrorCode::invalid_input,
                      "line " + std::to_string(opened_on) +
                          ": a quoted field is not closed before the end of the input",
                      {{"line", opened_on}});
        }
        if (c == '"') {
          if (peek() == '"') {
            get();
            field.text += '"';
            continue;
          }
          break;
        }
        field.text += static_cast<char>(c);
      }
      c = peek();
      if (c != ',' && c != '\n' && c != '\r' && c != kEof) {
        throw Error(ErrorCode::invalid_input,
                    "line " + std::to_string(line_) +
                        ": unexpected text after the closing quote of a field; a quote inside a "
                        "quoted field is written twice (\"\")",
                    {{"line", line_}});
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field = CsvField{};
      continue;
    }
    if (c == '\r' && peek() == '\n') c = get();
    if (c == '\n' || c == kEof) {
      fields.push_back(std::move(field));
      return true;
    }
    field.text += static_cast<char>(c);
  }
}

}  // namespace duckmesh::client
