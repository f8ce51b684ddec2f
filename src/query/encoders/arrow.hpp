// The Arrow IPC stream encoding behind make_row_encoder(Format::arrow).
#pragma once

#include <memory>

#include "query/encoders.hpp"

namespace duckmesh::query::encoding {

// The Arrow IPC streaming format: a Schema message in begin(), one
// RecordBatch message per rows() call, the end-of-stream marker in end().
// BOOLEAN, INTEGER, BIGINT, UBIGINT, DOUBLE, VARCHAR, DATE, TIMESTAMP,
// TIMESTAMP WITH TIME ZONE and DECIMAL keep their Arrow types (arrow.cpp
// lists the mapping); any other column is Utf8 holding DuckDB's text of
// each value.
std::unique_ptr<RowEncoder> make_arrow_encoder(OutputBuffer& out);

}  // namespace duckmesh::query::encoding
