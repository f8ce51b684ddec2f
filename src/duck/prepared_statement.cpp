#include "duck/prepared_statement.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/error.hpp"
#include "duck/duckdb_error.hpp"

namespace duckmesh::duck {

// Owns a pending result; it must be destroyed whatever happens.
struct PreparedStatement::PendingResult {
  duckdb_pending_result pending = nullptr;
  PendingResult() = default;
  PendingResult(const PendingResult&) = delete;
  PendingResult& operator=(const PendingResult&) = delete;
  ~PendingResult() { duckdb_destroy_pending(&pending); }
};

namespace {

duckdb_hugeint to_duckdb_hugeint(Int128 value) {
  duckdb_hugeint h;
  h.lower = static_cast<std::uint64_t>(static_cast<UInt128>(value));
  h.upper = static_cast<std::int64_t>(value >> 64);
  return h;
}

void check_decimal(const Decimal& value) {
  if (value.width < 1 || value.width > 38 || value.scale > value.width) {
    throw Error(ErrorCode::invalid_input, "DECIMAL width must be 1..38 and scale at most the width",
                {{"width", value.width}, {"scale", value.scale}});
  }
}

}  // namespace

duckdb_prepared_statement PreparedStatement::get() const {
  if (!handle_) throw Error(ErrorCode::internal, "use of a moved-from PreparedStatement");
  return handle_->get();
}

idx_t PreparedStatement::parameter_count() const {
  return duckdb_nparams(get());
}

duckdb_statement_type PreparedStatement::statement_type() const {
  // Safe here: a PreparedStatement only exists for a successful prepare.
  return duckdb_prepared_statement_type(get());
}

std::string PreparedStatement::parameter_name(idx_t index) const {
  const char* name = duckdb_parameter_name(get(), index);
  if (name == nullptr) {
    throw Error(ErrorCode::invalid_input, "statement has no parameter " + std::to_string(index),
                {{"index", index}, {"parameter_count", parameter_count()}});
  }
  std::string out(name);
  // duckdb.h: "The returned string should be freed using duckdb_free".
  duckdb_free(const_cast<char*>(name));
  return out;
}

idx_t PreparedStatement::parameter_index(std::string_view name) const {
  std::string c_name = detail::c_string(name, "parameter name");
  idx_t index = 0;
  if (duckdb_bind_parameter_index(get(), &index, c_name.c_str()) == DuckDBError) {
    throw Error(ErrorCode::invalid_input,
                "statement has no parameter named '" + std::string(name) + "'",
                {{"parameter", std::string(name)}});
  }
  return index;
}

void PreparedStatement::check_bind(duckdb_state state, idx_t index) const {
  if (state == DuckDBSuccess) return;
  const char* error = duckdb_prepare_error(get());
  if (error != nullptr && error[0] != '\0') {
    detail::throw_duckdb_error("cannot bind parameter " + std::to_string(index), error,
                               DUCKDB_ERROR_INVALID, ErrorCode::invalid_input);
  }
  throw Error(ErrorCode::invalid_input,
              "cannot bind parameter " + std::to_string(index) + "; the statement has " +
                  std::to_string(parameter_count()) + " parameters",
              {{"index", index}});
}

void PreparedStatement::bind(idx_t index, std::nullptr_t) {
  check_bind(duckdb_bind_null(get(), index), index);
}
void PreparedStatement::bind_bool(idx_t index, bool value) {
  check_bind(duckdb_bind_boolean(get(), index, value), index);
}
void PreparedStatement::bind_int32(idx_t index, std::int32_t value) {
  check_bind(duckdb_bind_int32(get(), index, value), index);
}
void PreparedStatement::bind_int64(idx_t index, std::int64_t value) {
  check_bind(duckdb_bind_int64(get(), index, value), index);
}
void PreparedStatement::bind_uint32(idx_t index, std::uint32_t value) {
  check_bind(duckdb_bind_uint32(get(), index, value), index);
}
void PreparedStatement::bind_uint64(idx_t index, std::uint64_t value) {
  check_bind(duckdb_bind_uint64(get(), index, value), index);
}
void PreparedStatement::bind_double(idx_t index, double value) {
  check_bind(duckdb_bind_double(get(), index, value), index);
}

void PreparedStatement::bind(idx_t index, std::string_view text) {
  check_bind(duckdb_bind_varchar_length(get(), index, text.data(), text.size()), index);
}

void PreparedStatement::bind(idx_t index, Date value) {
  check_bind(duckdb_bind_date(get(), index, duckdb_date{value.days}), index);
}

void PreparedStatement::bind(idx_t index, Timestamp value) {
  check_bind(duckdb_bind_timestamp(get(), index, duckdb_timestamp{value.micros}), index);
}

void PreparedStatement::bind(idx_t index, TimestampTz value) {
  check_bind(duckdb_bind_timestamp_tz(get(), index, duckdb_timestamp{value.micros}), index);
}

void PreparedStatement::bind(idx_t index, const Decimal& value) {
  check_decimal(value);
  duckdb_decimal d;
  d.width = value.width;
  d.scale = value.scale;
  d.value = to_duckdb_hugeint(value.value);
  check_bind(duckdb_bind_decimal(get(), index, d), index);
}

void PreparedStatement::bind(idx_t index, HugeInt value) {
  check_bind(duckdb_bind_hugeint(get(), index, to_duckdb_hugeint(value.value)), index);
}

void PreparedStatement::bind(idx_t index, const Blob& value) {
  bind_blob(index, value.bytes.data(), value.bytes.size());
}

void PreparedStatement::bind_blob(idx_t index, const void* data, std::size_t size) {
  check_bind(duckdb_bind_blob(get(), index, data, size), index);
}

void PreparedStatement::bind(idx_t index, const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          bind(index, nullptr);
        } else if constexpr (std::is_same_v<T, List> || std::is_same_v<T, Struct>) {
          throw Error(ErrorCode::invalid_input,
                      "parameter " + std::to_string(index) +
                          ": LIST and STRUCT values cannot be bound; pass their elements as "
                          "separate parameters or as text to cast in SQL",
                      {{"index", index}});
        } else {
          bind(index, v);
        }
      },
      value);
}

void PreparedStatement::clear_bindings() {
  if (duckdb_clear_bindings(get()) == DuckDBError) {
    throw Error(ErrorCode::internal, "DuckDB could not clear the statement's bindings");
  }
}

Result PreparedStatement::execute() {
  return run(false);
}

Result PreparedStatement::execute_streaming() {
  return run(true);
}

Result PreparedStatement::run(bool streaming) {
  PendingResult pending;
  // duckdb_pending_prepared_streaming is the only streaming entry point of
  // the C API in the pinned DuckDB (marked for future removal there, with
  // no replacement yet).
  const duckdb_state prepared = streaming
                                    ? duckdb_pending_prepared_streaming(get(), &pending.pending)
                                    : duckdb_pending_prepared(get(), &pending.pending);
  if (prepared == DuckDBError) {
    const char* error =
        pending.pending != nullptr ? duckdb_pending_error(pending.pending) : nullptr;
    detail::throw_duckdb_error("query failed", error, DUCKDB_ERROR_INVALID,
                               ErrorCode::invalid_input);
  }
  // The whole query, or when streaming up to its first rows (for an
  // aggregate or a sort, the whole query too).
  run_tasks(pending);
  duckdb_result result;
  if (duckdb_execute_pending(pending.pending, &result) == DuckDBError) {
    std::string error = duckdb_result_error(&result) != nullptr ? duckdb_result_error(&result) : "";
    duckdb_error_type type = duckdb_result_error_type(&result);
    duckdb_destroy_result(&result);
    if (error.empty()) {
      const char* pending_error = duckdb_pending_error(pending.pending);
      error = pending_error != nullptr ? pending_error : "";
    }
    detail::throw_duckdb_error("query failed", error.c_str(), type, ErrorCode::invalid_input);
  }
  // A streaming result reads on from the statement: it keeps it alive.
  return Result(result, streaming ? handle_ : nullptr);
}

void PreparedStatement::run_tasks(PendingResult& pending) {
  // DuckDB's own wait (duckdb_execute_prepared, duckdb_execute_pending)
  // keeps asking for a task while its worker threads hold them all: a core
  // spent spinning for as long as the query runs (7% of a busy server's CPU
  // during commits, taken from ingest). Here the calling thread runs tasks
  // while there are any and sleeps, 20 us and then up to 250 us,
  // while there are none. Tasks that wait on something else (DuckDB says
  // "not ready" at once, having run nothing, many times in a row) count as
  // none.
  constexpr auto kFirstPause = std::chrono::microseconds(20);
  constexpr auto kLongestPause = std::chrono::microseconds(250);
  constexpr auto kNoWork = std::chrono::microseconds(2);
  constexpr int kIdleAnswers = 16;
  auto pause = kFirstPause;
  int idle_answers = 0;
  for (;;) {
    const auto asked = std::chrono::steady_clock::now();
    const duckdb_pending_state state = duckdb_pending_execute_task(pending.pending);
    if (state == DUCKDB_PENDING_ERROR) {
      // The pending result's own text ("IO Error: ..."), which names the
      // error's type; executing the failed result would only wrap it.
      detail::throw_duckdb_error("query failed", duckdb_pending_error(pending.pending),
                                 DUCKDB_ERROR_INVALID, ErrorCode::invalid_input);
    }
    if (duckdb_pending_execution_is_finished(state)) break;
    const bool none = state == DUCKDB_PENDING_NO_TASKS_AVAILABLE;
    if (!none && std::chrono::steady_clock::now() - asked >= kNoWork) {
      pause = kFirstPause;  // ran a task
      idle_answers = 0;
      continue;
    }
    if (none || ++idle_answers >= kIdleAnswers) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, kLongestPause);
    }
  }
}

}  // namespace duckmesh::duck
