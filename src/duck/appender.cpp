#include "duck/appender.hpp"

#include "common/error.hpp"
#include "duck/duckdb_error.hpp"

namespace duckmesh::duck {
namespace {

// Reads and releases the appender's error, then throws it.
[[noreturn]] void throw_appender_error(duckdb_appender appender, const std::string& context) {
  duckdb_error_data data = appender != nullptr ? duckdb_appender_error_data(appender) : nullptr;
  std::string message;
  duckdb_error_type type = DUCKDB_ERROR_INVALID;
  if (data != nullptr) {
    if (duckdb_error_data_has_error(data)) {
      const char* text = duckdb_error_data_message(data);
      message = text != nullptr ? text : "";
      type = duckdb_error_data_error_type(data);
    }
    duckdb_destroy_error_data(&data);
  }
  detail::throw_duckdb_error(context, message.c_str(), type, ErrorCode::invalid_input);
}

duckdb_hugeint to_duckdb_hugeint(Int128 value) {
  duckdb_hugeint h;
  h.lower = static_cast<std::uint64_t>(static_cast<UInt128>(value));
  h.upper = static_cast<std::int64_t>(value >> 64);
  return h;
}

}  // namespace

Appender::Appender(Connection& connection, std::string_view schema, std::string_view table)
    : table_(schema.empty() ? std::string(table) : std::string(schema) + "." + std::string(table)) {
  if (connection.handle() == nullptr) {
    throw Error(ErrorCode::internal, "cannot append through a moved-from Connection");
  }
  std::string c_schema = detail::c_string(schema, "schema name");
  std::string c_table = detail::c_string(table, "table name");
  duckdb_appender appender = nullptr;
  if (duckdb_appender_create(connection.handle(), schema.empty() ? nullptr : c_schema.c_str(),
                             c_table.c_str(), &appender) == DuckDBError) {
    // The failed appender holds the reason and must still be destroyed.
    try {
      throw_appender_error(appender, "cannot append to table '" + table_ + "'");
    } catch (...) {
      if (appender != nullptr) duckdb_appender_destroy(&appender);
      throw;
    }
  }
  appender_ = appender;
}

Appender::~Appender() {
  if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
}

Appender::Appender(Appender&& other) noexcept
    : appender_(std::exchange(other.appender_, nullptr)),
      table_(std::move(other.table_)),
      closed_(other.closed_) {}

Appender& Appender::operator=(Appender&& other) noexcept {
  if (this != &other) {
    if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
    appender_ = std::exchange(other.appender_, nullptr);
    table_ = std::move(other.table_);
    closed_ = other.closed_;
  }
  return *this;
}

duckdb_appender Appender::get() const {
  if (appender_ == nullptr) throw Error(ErrorCode::internal, "use of a moved-from Appender");
  // DuckDB itself accepts values after a close and writes them on destroy;
  // the contract here is that a closed appender takes nothing more.
  if (closed_) {
    throw Error(ErrorCode::internal, "the appender for table '" + table_ + "' is closed");
  }
  return appender_;
}

void Appender::check(duckdb_state state, std::string_view action) {
  if (state == DuckDBSuccess) return;
  throw_appender_error(appender_, std::string(action) + " on table '" + table_ + "' failed");
}

idx_t Appender::column_count() const {
  return duckdb_appender_column_count(get());
}

Appender& Appender::append(std::nullptr_t) {
  check(duckdb_append_null(get()), "append");
  return *this;
}
Appender& Appender::append_bool(bool value) {
  check(duckdb_append_bool(get(), value), "append");
  return *this;
}
Appender& Appender::append_int32(std::int32_t value) {
  check(duckdb_append_int32(get(), value), "append");
  return *this;
}
Appender& Appender::append_int64(std::int64_t value) {
  check(duckdb_append_int64(get(), value), "append");
  return *this;
}
Appender& Appender::append_uint32(std::uint32_t value) {
  check(duckdb_append_uint32(get(), value), "append");
  return *this;
}
Appender& Appender::append_uint64(std::uint64_t value) {
  check(duckdb_append_uint64(get(), value), "append");
  return *this;
}
Appender& Appender::append_double(double value) {
  check(duckdb_append_double(get(), value), "append");
  return *this;
}

Appender& Appender::append(std::string_view text) {
  check(duckdb_append_varchar_length(get(), text.data(), text.size()), "append");
  return *this;
}

Appender& Appender::append(Date value) {
  check(duckdb_append_date(get(), duckdb_date{value.days}), "append");
  return *this;
}

Appender& Appender::append(Timestamp value) {
  check(duckdb_append_timestamp(get(), duckdb_timestamp{value.micros}), "append");
  return *this;
}

Appender& Appender::append_owned_value(duckdb_value value, std::string_view what) {
  if (value == nullptr) {
    throw Error(ErrorCode::internal, "DuckDB could not create a " + std::string(what) + " value");
  }
  duckdb_state state = duckdb_append_value(get(), value);
  duckdb_destroy_value(&value);
  check(state, "append");
  return *this;
}

Appender& Appender::append(TimestampTz value) {
  // No duckdb_append_timestamp_tz exists; appending a plain TIMESTAMP would
  // make DuckDB convert it through the session TimeZone.
  return append_owned_value(duckdb_create_timestamp_tz(duckdb_timestamp{value.micros}),
                            "TIMESTAMP WITH TIME ZONE");
}

Appender& Appender::append(const Decimal& value) {
  if (value.width < 1 || value.width > 38 || value.scale > value.width) {
    throw Error(ErrorCode::invalid_input, "DECIMAL width must be 1..38 and scale at most the width",
                {{"width", value.width}, {"scale", value.scale}});
  }
  duckdb_decimal d;
  d.width = value.width;
  d.scale = value.scale;
  d.value = to_duckdb_hugeint(value.value);
  return append_owned_value(duckdb_create_decimal(d), "DECIMAL");
}

Appender& Appender::append(HugeInt value) {
  check(duckdb_append_hugeint(get(), to_duckdb_hugeint(value.value)), "append");
  return *this;
}

Appender& Appender::append(const Blob& value) {
  return append_blob(value.bytes.data(), value.bytes.size());
}

Appender& Appender::append_blob(const void* data, std::size_t size) {
  check(duckdb_append_blob(get(), data, size), "append");
  return *this;
}

Appender& Appender::append(const Value& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          append(nullptr);
        } else if constexpr (std::is_same_v<T, List> || std::is_same_v<T, Struct>) {
          throw Error(ErrorCode::invalid_input,
                      "LIST and STRUCT values cannot be appended value by value; insert them "
                      "with SQL");
        } else {
          append(v);
        }
      },
      value);
  return *this;
}

Appender& Appender::append_default() {
  check(duckdb_append_default(get()), "append DEFAULT");
  return *this;
}

void Appender::end_row() {
  check(duckdb_appender_end_row(get()), "end of row");
}

void Appender::flush() {
  check(duckdb_appender_flush(get()), "flush");
}

void Appender::close() {
  if (closed_) return;
  check(duckdb_appender_close(get()), "close");
  closed_ = true;
}

}  // namespace duckmesh::duck
