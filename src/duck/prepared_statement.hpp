// A prepared statement with typed parameter binding.
//
// Parameters are numbered from 1 as in DuckDB's SQL ($1, or ? in order);
// named parameters ($name) are bound by name. Bindings persist across
// executions until rebound or clear_bindings().
//
// Binding checks the index, not the type: DuckDB casts a bound value to the
// parameter's type when the statement executes, and a failed cast surfaces
// from execute() as Error(invalid_input) with DuckDB's text.
//
// Lifetime and thread-safety: used by one thread at a time (the thread that
// uses its Connection); must be destroyed before that Connection. A
// streaming Result keeps the statement's DuckDB handle alive by itself.
#pragma once

#include <duckdb.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "duck/result.hpp"
#include "duck/value.hpp"

namespace duckmesh::duck {

namespace detail {

// Owns a duckdb_prepared_statement; shared with streaming Results.
class StatementHandle {
 public:
  explicit StatementHandle(duckdb_prepared_statement statement) noexcept : statement_(statement) {}
  ~StatementHandle() { duckdb_destroy_prepare(&statement_); }
  StatementHandle(const StatementHandle&) = delete;
  StatementHandle& operator=(const StatementHandle&) = delete;

  duckdb_prepared_statement get() const noexcept { return statement_; }

 private:
  duckdb_prepared_statement statement_;
};

// Integer types that bind as numbers. Character types are excluded so that
// bind(1, 'x') does not quietly bind 120.
template <class T>
concept BindableInteger =
    std::integral<T> && !std::same_as<T, char> && !std::same_as<T, wchar_t> &&
    !std::same_as<T, char8_t> && !std::same_as<T, char16_t> && !std::same_as<T, char32_t>;

}  // namespace detail

class PreparedStatement {
 public:
  PreparedStatement(PreparedStatement&&) noexcept = default;
  PreparedStatement& operator=(PreparedStatement&&) noexcept = default;
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;
  ~PreparedStatement() = default;

  // Number of distinct parameters.
  idx_t parameter_count() const;
  // SELECT, INSERT, COPY, ...
  duckdb_statement_type statement_type() const;
  // The name of parameter `index` ("1" for positional ones, "name" for $name).
  std::string parameter_name(idx_t index) const;
  // The index of $name. Throws Error(invalid_input) if there is none.
  idx_t parameter_index(std::string_view name) const;

  // Each bind throws Error(invalid_input) with DuckDB's text when `index`
  // is not a parameter of this statement.
  void bind(idx_t index, std::nullptr_t);
  template <detail::BindableInteger T>
  void bind(idx_t index, T value) {
    if constexpr (std::same_as<T, bool>) {
      bind_bool(index, value);
    } else if constexpr (std::is_signed_v<T>) {
      if constexpr (sizeof(T) <= 4) {
        bind_int32(index, value);
      } else {
        bind_int64(index, value);
      }
    } else if constexpr (sizeof(T) <= 4) {
      bind_uint32(index, value);
    } else {
      bind_uint64(index, value);
    }
  }
  template <std::floating_point T>
  void bind(idx_t index, T value) {
    bind_double(index, static_cast<double>(value));
  }
  void bind(idx_t index, std::string_view text);  // VARCHAR
  void bind(idx_t index, const std::string& text) { bind(index, std::string_view(text)); }
  void bind(idx_t index, const char* text) { bind(index, std::string_view(text)); }
  void bind(idx_t index, Date value);
  void bind(idx_t index, Timestamp value);
  void bind(idx_t index, TimestampTz value);
  void bind(idx_t index, const Decimal& value);
  void bind(idx_t index, HugeInt value);
  void bind(idx_t index, const Blob& value);
  void bind_blob(idx_t index, const void* data, std::size_t size);
  // Any scalar Value (NULL included). Throws Error(invalid_input) for List
  // and Struct, which have no binding here.
  void bind(idx_t index, const Value& value);

  // Binds the parameter called `name` ($name in the SQL).
  template <class T>
  void bind(std::string_view name, T&& value) {
    bind(parameter_index(name), std::forward<T>(value));
  }

  void clear_bindings();

  // Runs the statement with the current bindings and materializes the
  // result; the calling thread runs the query's tasks with DuckDB's
  // threads, and sleeps rather than spins while they hold them all. Throws an Error with DuckDB's
  // text on failure (a missing binding, a failed cast, a constraint violation, an interrupt...).
  Result execute();
  // Runs the statement and returns a streaming Result. DuckDB computes the
  // first rows before returning (the caller sleeping, as for execute(),
  // while DuckDB's threads work), so errors can come from here or from
  // Result::next_chunk().
  Result execute_streaming();

 private:
  friend class Connection;
  explicit PreparedStatement(std::shared_ptr<detail::StatementHandle> handle)
      : handle_(std::move(handle)) {}

  struct PendingResult;
  // execute() or execute_streaming().
  Result run(bool streaming);
  // Runs the pending query's tasks on this thread until its result (or, when
  // streaming, its first rows) is ready, sleeping while DuckDB's threads hold
  // every task. Throws on failure.
  void run_tasks(PendingResult& pending);

  void bind_bool(idx_t index, bool value);
  void bind_int32(idx_t index, std::int32_t value);
  void bind_int64(idx_t index, std::int64_t value);
  void bind_uint32(idx_t index, std::uint32_t value);
  void bind_uint64(idx_t index, std::uint64_t value);
  void bind_double(idx_t index, double value);
  void check_bind(duckdb_state state, idx_t index) const;
  duckdb_prepared_statement get() const;

  std::shared_ptr<detail::StatementHandle> handle_;
};

}  // namespace duckmesh::duck
