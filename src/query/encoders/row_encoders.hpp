// The row encodings behind make_row_encoder (query/encoders.hpp).
#pragma once

#include <memory>

#include "query/encoders.hpp"

namespace duckmesh::query::encoding {

// {"columns":[{"name","type"}],"rows":[[...]],"row_count","truncated","elapsed_ms",...}
std::unique_ptr<RowEncoder> make_json_encoder(OutputBuffer& out);
// One {"column":value,...} object per line, no envelope.
std::unique_ptr<RowEncoder> make_ndjson_encoder(OutputBuffer& out);
// RFC 4180: a header row, CRLF line ends.
std::unique_ptr<RowEncoder> make_csv_encoder(OutputBuffer& out);

}  // namespace duckmesh::query::encoding
