#include "duck/result.hpp"

#include <utility>

#include "common/error.hpp"
#include "duck/duckdb_error.hpp"

namespace duckmesh::duck {

Result::Result(duckdb_result result, std::shared_ptr<void> keep_alive)
    : result_(result), owned_(true), keep_alive_(std::move(keep_alive)) {
  try {
    streaming_ = duckdb_result_is_streaming(result_);
    statement_type_ = duckdb_result_statement_type(result_);
    // Only a CHANGED_ROWS result carries a count; asking others is
    // meaningless (and a streaming result has no count to give).
    if (duckdb_result_return_type(result_) == DUCKDB_RESULT_TYPE_CHANGED_ROWS) {
      rows_changed_ = duckdb_rows_changed(&result_);
    }
    const idx_t columns = duckdb_column_count(&result_);
    auto types = std::make_shared<std::vector<detail::TypeInfo>>();
    types->reserve(columns);
    names_.reserve(columns);
    type_names_.reserve(columns);
    for (idx_t c = 0; c < columns; ++c) {
      const char* name = duckdb_column_name(&result_, c);
      names_.emplace_back(name == nullptr ? "" : name);
      LogicalType type(duckdb_column_logical_type(&result_, c));
      if (!type) {
        throw Error(ErrorCode::internal,
                    "DuckDB returned no type for result column " + std::to_string(c));
      }
      types->push_back(detail::describe_type(type.get()));
      type_names_.push_back(types->back().name);
    }
    types_ = std::move(types);
  } catch (...) {
    release();
    throw;
  }
}

void Result::release() noexcept {
  if (owned_) {
    duckdb_destroy_result(&result_);
    owned_ = false;
  }
}

Result::~Result() {
  release();
}

Result::Result(Result&& other) noexcept
    : result_(other.result_),
      owned_(std::exchange(other.owned_, false)),
      exhausted_(other.exhausted_),
      streaming_(other.streaming_),
      statement_type_(other.statement_type_),
      rows_changed_(other.rows_changed_),
      names_(std::move(other.names_)),
      type_names_(std::move(other.type_names_)),
      types_(std::move(other.types_)),
      keep_alive_(std::move(other.keep_alive_)) {}

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    release();
    result_ = other.result_;
    owned_ = std::exchange(other.owned_, false);
    exhausted_ = other.exhausted_;
    streaming_ = other.streaming_;
    statement_type_ = other.statement_type_;
    rows_changed_ = other.rows_changed_;
    names_ = std::move(other.names_);
    type_names_ = std::move(other.type_names_);
    types_ = std::move(other.types_);
    keep_alive_ = std::move(other.keep_alive_);
  }
  return *this;
}

const std::string& Result::column_name(idx_t col) const {
  if (col >= names_.size()) {
    throw Error(ErrorCode::internal, "result column " + std::to_string(col) + " does not exist");
  }
  return names_[col];
}

const std::string& Result::column_type_name(idx_t col) const {
  if (col >= type_names_.size()) {
    throw Error(ErrorCode::internal, "result column " + std::to_string(col) + " does not exist");
  }
  return type_names_[col];
}

duckdb_type Result::column_type_id(idx_t col) const {
  if (col >= types_->size()) {
    throw Error(ErrorCode::internal, "result column " + std::to_string(col) + " does not exist");
  }
  return (*types_)[col].id;
}

std::optional<DataChunk> Result::next_chunk() {
  if (!owned_) throw Error(ErrorCode::internal, "read from a moved-from Result");
  while (!exhausted_) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(result_);
    if (chunk == nullptr) {
      exhausted_ = true;
      // A NULL chunk means either "no more rows" or "execution failed";
      // only the result's error text tells them apart.
      if (const char* error = duckdb_result_error(&result_); error != nullptr && error[0] != '\0') {
        detail::throw_duckdb_error("query failed", error, duckdb_result_error_type(&result_),
                                   ErrorCode::invalid_input);
      }
      return std::nullopt;
    }
    if (duckdb_data_chunk_get_size(chunk) == 0) {
      duckdb_destroy_data_chunk(&chunk);
      continue;
    }
    return DataChunk(chunk, types_);
  }
  return std::nullopt;
}

std::vector<std::vector<Value>> Result::fetch_all() {
  std::vector<std::vector<Value>> rows;
  while (auto chunk = next_chunk()) {
    for (idx_t r = 0; r < chunk->size(); ++r) {
      std::vector<Value> row;
      row.reserve(chunk->column_count());
      for (idx_t c = 0; c < chunk->column_count(); ++c) row.push_back(chunk->get_value(c, r));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::optional<Value> Result::scalar() {
  if (column_count() == 0) {
    throw Error(ErrorCode::internal, "scalar() on a result without columns");
  }
  auto chunk = next_chunk();
  if (!chunk) return std::nullopt;
  return chunk->get_value(0, 0);
}

}  // namespace duckmesh::duck
