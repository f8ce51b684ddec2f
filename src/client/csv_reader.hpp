// CsvReader: records of an RFC 4180 CSV stream, read incrementally so files
// of any size stream through in constant memory (one record at a time).
//
// Fields are separated by commas and records by CRLF or LF. A field in
// double quotes may hold commas, line breaks (kept exactly as written) and
// doubled quotes (one quote each). Beyond the RFC: a UTF-8 byte order mark
// at the start is dropped, lines with nothing on them are skipped, and the
// last record need not end with a line break.
//
// Errors (duckmesh::Error, invalid_input, naming the line): a quoted field
// not closed before the end of input, and text after a closing quote other
// than a separator or line break.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace duckmesh::client {

struct CsvField {
  std::string text;
  bool quoted = false;  // written in double quotes ("" is a quoted empty field)
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in);

  // Reads the next record into `fields` (replacing what was there); false
  // at the end of input.
  bool next(std::vector<CsvField>& fields);

  // 1-based line number where the record last returned by next() starts.
  std::size_t record_line() const { return record_line_; }

  // Bytes consumed from the stream so far.
  std::size_t bytes_read() const { return bytes_read_; }

 private:
  int get();
  int peek();

  std::streambuf* in_;
  std::size_t line_ = 1;
  std::size_t record_line_ = 0;
  std::size_t bytes_read_ = 0;
  bool started_ = false;
};

}  // namespace duckmesh::client
