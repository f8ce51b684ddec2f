#include "duck/data_chunk.hpp"

#include <limits>
#include <utility>

#include "common/error.hpp"
#include "duck/logical_type.hpp"
#include "duck/temporal.hpp"
#include "duck/text.hpp"

namespace duckmesh::duck {
namespace detail {

// One vector of a chunk with what is needed to read it, built once per
// chunk. Nested vectors (list elements, struct fields) are children.
struct VectorNode {
  const TypeInfo* type = nullptr;
  const void* data = nullptr;
  // nullptr when every row is valid.
  const std::uint64_t* validity = nullptr;
  idx_t size = 0;
  std::vector<VectorNode> children;
};

}  // namespace detail

using detail::TypeInfo;
using detail::VectorNode;

struct DataChunk::State {
  duckdb_data_chunk chunk = nullptr;
  std::shared_ptr<const std::vector<TypeInfo>> types;
  std::vector<VectorNode> columns;
  idx_t size = 0;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (chunk != nullptr) duckdb_destroy_data_chunk(&chunk);
  }
};

namespace {

constexpr std::int64_t kTimestampInfinity = Timestamp::kInfinity;
constexpr std::int64_t kTimestampNegativeInfinity = Timestamp::kNegativeInfinity;

VectorNode build_node(duckdb_vector vector, const TypeInfo& type, idx_t size) {
  if (vector == nullptr) {
    throw Error(ErrorCode::internal, "DuckDB returned no vector for a " + type.name + " value");
  }
  VectorNode node;
  node.type = &type;
  node.data = duckdb_vector_get_data(vector);
  node.validity = duckdb_vector_get_validity(vector);
  node.size = size;
  // Values and list entries live in the data buffer; STRUCT, ARRAY and
  // UNION vectors keep theirs in child vectors and have none.
  const bool has_own_data =
      type.id != DUCKDB_TYPE_STRUCT && type.id != DUCKDB_TYPE_ARRAY && type.id != DUCKDB_TYPE_UNION;
  if (has_own_data && node.data == nullptr && size > 0) {
    throw Error(ErrorCode::internal, "DuckDB returned a " + type.name + " vector without data");
  }
  switch (type.id) {
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_MAP:
      node.children.push_back(build_node(duckdb_list_vector_get_child(vector), type.children.at(0),
                                         duckdb_list_vector_get_size(vector)));
      break;
    case DUCKDB_TYPE_ARRAY:
      node.children.push_back(build_node(duckdb_array_vector_get_child(vector), type.children.at(0),
                                         size * type.array_size));
      break;
    case DUCKDB_TYPE_STRUCT:
      for (idx_t i = 0; i < type.children.size(); ++i) {
        node.children.push_back(
            build_node(duckdb_struct_vector_get_child(vector, i), type.children[i], size));
      }
      break;
    default: break;
  }
  return node;
}

template <class T>
T at(const VectorNode& n, idx_t row) {
  return static_cast<const T*>(n.data)[row];
}

bool valid(const VectorNode& n, idx_t row) {
  return n.validity == nullptr || ((n.validity[row / 64] >> (row % 64)) & 1) != 0;
}

void check_row(const VectorNode& n, idx_t row) {
  if (row >= n.size) {
    throw Error(ErrorCode::internal, "row " + std::to_string(row) +
                                         " is out of range; the vector holds " +
                                         std::to_string(n.size) + " rows");
  }
}

// Row in range and not NULL: what every typed getter requires.
void check_value(const VectorNode& n, idx_t row) {
  check_row(n, row);
  if (!valid(n, row)) {
    throw Error(ErrorCode::internal,
                "row " + std::to_string(row) + " holds NULL; check is_null() before reading");
  }
}

[[noreturn]] void wrong_type(const VectorNode& n, std::string_view wanted) {
  throw Error(ErrorCode::internal,
              "a " + n.type->name + " value cannot be read as " + std::string(wanted),
              {{"type", n.type->name}});
}

[[noreturn]] void unsupported(const VectorNode& n) {
  throw Error(ErrorCode::invalid_input,
              "result type " + n.type->name +
                  " is not supported by the result reader; cast it in the query (e.g. to VARCHAR)",
              {{"type", n.type->name}});
}

Int128 hugeint_value(duckdb_hugeint h) {
  return static_cast<Int128>((static_cast<UInt128>(static_cast<std::uint64_t>(h.upper)) << 64) |
                             h.lower);
}

UInt128 uhugeint_value(duckdb_uhugeint h) {
  return (static_cast<UInt128>(h.upper) << 64) | h.lower;
}

// Any integer column as a 128-bit value; false when the column is not an
// integer type or the value does not fit.
bool integer_at(const VectorNode& n, idx_t row, Int128& out) {
  switch (n.type->id) {
    case DUCKDB_TYPE_TINYINT: out = at<std::int8_t>(n, row); return true;
    case DUCKDB_TYPE_SMALLINT: out = at<std::int16_t>(n, row); return true;
    case DUCKDB_TYPE_INTEGER: out = at<std::int32_t>(n, row); return true;
    case DUCKDB_TYPE_BIGINT: out = at<std::int64_t>(n, row); return true;
    case DUCKDB_TYPE_UTINYINT: out = at<std::uint8_t>(n, row); return true;
    case DUCKDB_TYPE_USMALLINT: out = at<std::uint16_t>(n, row); return true;
    case DUCKDB_TYPE_UINTEGER: out = at<std::uint32_t>(n, row); return true;
    case DUCKDB_TYPE_UBIGINT: out = at<std::uint64_t>(n, row); return true;
    case DUCKDB_TYPE_HUGEINT: out = hugeint_value(at<duckdb_hugeint>(n, row)); return true;
    case DUCKDB_TYPE_UHUGEINT: {
      UInt128 u = uhugeint_value(at<duckdb_uhugeint>(n, row));
      if (u >> 127 != 0) {
        throw Error(ErrorCode::internal,
                    "UHUGEINT value " + uint128_to_string(u) + " does not fit a signed integer");
      }
      out = static_cast<Int128>(u);
      return true;
    }
    default: return false;
  }
}

template <class T>
T checked_integer(const VectorNode& n, idx_t row, std::string_view wanted) {
  check_value(n, row);
  Int128 v = 0;
  if (!integer_at(n, row, v)) wrong_type(n, wanted);
  if (v < static_cast<Int128>(std::numeric_limits<T>::min()) ||
      v > static_cast<Int128>(std::numeric_limits<T>::max())) {
    throw Error(ErrorCode::internal,
                "value " + int128_to_string(v) + " does not fit " + std::string(wanted));
  }
  return static_cast<T>(v);
}

Decimal decimal_at(const VectorNode& n, idx_t row) {
  Decimal d;
  d.width = n.type->decimal_width;
  d.scale = n.type->decimal_scale;
  switch (n.type->storage) {
    case DUCKDB_TYPE_SMALLINT: d.value = at<std::int16_t>(n, row); break;
    case DUCKDB_TYPE_INTEGER: d.value = at<std::int32_t>(n, row); break;
    case DUCKDB_TYPE_BIGINT: d.value = at<std::int64_t>(n, row); break;
    case DUCKDB_TYPE_HUGEINT: d.value = hugeint_value(at<duckdb_hugeint>(n, row)); break;
    default:
      throw Error(ErrorCode::internal, "DECIMAL stored as " + type_id_name(n.type->storage) +
                                           " is not a layout DuckDB documents");
  }
  return d;
}

std::string_view string_at(const VectorNode& n, idx_t row) {
  // duckdb.h: strings of up to 12 bytes live inside duckdb_string_t itself,
  // longer ones behind a pointer (after a 4-byte prefix copy).
  const auto& s = static_cast<const duckdb_string_t*>(n.data)[row];
  const std::uint32_t length = s.value.inlined.length;
  if (length <= sizeof(s.value.inlined.inlined)) return {s.value.inlined.inlined, length};
  return {s.value.pointer.ptr, length};
}

std::string_view enum_at(const VectorNode& n, idx_t row) {
  std::uint64_t index = 0;
  switch (n.type->storage) {
    case DUCKDB_TYPE_UTINYINT: index = at<std::uint8_t>(n, row); break;
    case DUCKDB_TYPE_USMALLINT: index = at<std::uint16_t>(n, row); break;
    case DUCKDB_TYPE_UINTEGER: index = at<std::uint32_t>(n, row); break;
    default:
      throw Error(ErrorCode::internal, "ENUM stored as " + type_id_name(n.type->storage) +
                                           " is not a layout DuckDB documents");
  }
  if (index >= n.type->enum_values.size()) {
    throw Error(ErrorCode::internal, "ENUM index " + std::to_string(index) +
                                         " is outside the dictionary of " + n.type->name);
  }
  return n.type->enum_values[index];
}

std::int64_t scale_timestamp(std::int64_t value, std::int64_t factor) {
  if (value == kTimestampInfinity || value == kTimestampNegativeInfinity) return value;
  std::int64_t out = 0;
  if (__builtin_mul_overflow(value, factor, &out)) {
    throw Error(ErrorCode::internal, "timestamp value is outside the microsecond range");
  }
  return out;
}

std::int64_t timestamp_micros_at(const VectorNode& n, idx_t row) {
  const std::int64_t v = at<std::int64_t>(n, row);
  switch (n.type->id) {
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ: return v;
    case DUCKDB_TYPE_TIMESTAMP_S: return scale_timestamp(v, kMicrosPerSecond);
    case DUCKDB_TYPE_TIMESTAMP_MS: return scale_timestamp(v, 1000);
    case DUCKDB_TYPE_TIMESTAMP_NS: {
      if (v == kTimestampInfinity || v == kTimestampNegativeInfinity) return v;
      std::int64_t q = v / 1000;
      if (v % 1000 < 0) --q;
      return q;
    }
    default: wrong_type(n, "TIMESTAMP");
  }
}

std::string time_tz_text(std::uint64_t bits) {
  duckdb_time_tz_struct parts = duckdb_from_time_tz(duckdb_time_tz{bits});
  std::int64_t micros =
      ((parts.time.hour * 60LL + parts.time.min) * 60 + parts.time.sec) * kMicrosPerSecond +
      parts.time.micros;
  std::string out = format_time(micros);
  std::int32_t offset = parts.offset;
  out.push_back(offset < 0 ? '-' : '+');
  if (offset < 0) offset = -offset;
  const int hours = offset / 3600;
  const int minutes = offset / 60 % 60;
  const int seconds = offset % 60;
  auto two = [&out](int v) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
  };
  two(hours);
  if (minutes != 0 || seconds != 0) {
    out.push_back(':');
    two(minutes);
  }
  if (seconds != 0) {
    out.push_back(':');
    two(seconds);
  }
  return out;
}

// Text of a non-nested, non-numeric value (the kinds DuckDB may quote
// inside a nested value).
std::string scalar_text(const VectorNode& n, idx_t row) {
  switch (n.type->id) {
    case DUCKDB_TYPE_VARCHAR: return std::string(string_at(n, row));
    case DUCKDB_TYPE_BLOB: return format_blob(string_at(n, row));
    case DUCKDB_TYPE_ENUM: return std::string(enum_at(n, row));
    case DUCKDB_TYPE_DATE: return format_date(Date{at<std::int32_t>(n, row)});
    case DUCKDB_TYPE_TIME: return format_time(at<std::int64_t>(n, row));
    case DUCKDB_TYPE_TIME_TZ: return time_tz_text(at<std::uint64_t>(n, row));
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS: return format_timestamp(Timestamp{timestamp_micros_at(n, row)});
    case DUCKDB_TYPE_TIMESTAMP_NS: return format_timestamp_ns(at<std::int64_t>(n, row));
    case DUCKDB_TYPE_TIMESTAMP_TZ: return format_timestamp(TimestampTz{at<std::int64_t>(n, row)});
    case DUCKDB_TYPE_INTERVAL: {
      const auto iv = at<duckdb_interval>(n, row);
      return format_interval(iv.months, iv.days, iv.micros);
    }
    case DUCKDB_TYPE_UUID: return format_uuid(hugeint_value(at<duckdb_hugeint>(n, row)));
    default: unsupported(n);
  }
}

ListEntry list_entry_at(const VectorNode& n, idx_t row) {
  ListEntry entry;
  if (n.type->id == DUCKDB_TYPE_ARRAY) {
    entry = ListEntry{row * n.type->array_size, n.type->array_size};
  } else {
    const auto raw = at<duckdb_list_entry>(n, row);
    entry = ListEntry{raw.offset, raw.length};
  }
  const VectorNode& child = n.children.at(0);
  if (entry.offset > child.size || entry.length > child.size - entry.offset) {
    throw Error(ErrorCode::internal, "list entry points outside its element vector");
  }
  return entry;
}

void append_text(std::string& out, const VectorNode& n, idx_t row, bool nested) {
  if (!valid(n, row)) {
    out += "NULL";
    return;
  }
  switch (n.type->id) {
    case DUCKDB_TYPE_BOOLEAN: out += at<bool>(n, row) ? "true" : "false"; return;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: {
      Int128 v = 0;
      integer_at(n, row, v);
      out += int128_to_string(v);
      return;
    }
    case DUCKDB_TYPE_UHUGEINT:
      out += uint128_to_string(uhugeint_value(at<duckdb_uhugeint>(n, row)));
      return;
    case DUCKDB_TYPE_FLOAT: out += format_float(at<float>(n, row)); return;
    case DUCKDB_TYPE_DOUBLE: out += format_double(at<double>(n, row)); return;
    case DUCKDB_TYPE_DECIMAL: out += decimal_at(n, row).to_string(); return;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
      const ListEntry e = list_entry_at(n, row);
      out.push_back('[');
      for (std::uint64_t i = 0; i < e.length; ++i) {
        if (i > 0) out += ", ";
        append_text(out, n.children[0], e.offset + i, true);
      }
      out.push_back(']');
      return;
    }
    case DUCKDB_TYPE_MAP: {
      const ListEntry e = list_entry_at(n, row);
      const VectorNode& entries = n.children[0];
      out.push_back('{');
      for (std::uint64_t i = 0; i < e.length; ++i) {
        if (i > 0) out += ", ";
        append_text(out, entries.children.at(0), e.offset + i, true);
        out.push_back('=');
        append_text(out, entries.children.at(1), e.offset + i, true);
      }
      out.push_back('}');
      return;
    }
    case DUCKDB_TYPE_STRUCT: {
      out.push_back('{');
      for (std::size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += ", ";
        append_struct_key(out, n.type->field_names[i]);
        out += ": ";
        append_text(out, n.children[i], row, true);
      }
      out.push_back('}');
      return;
    }
    default: {
      std::string text = scalar_text(n, row);
      if (nested) {
        append_nested_scalar(out, text);
      } else {
        out += text;
      }
      return;
    }
  }
}

Value value_at(const VectorNode& n, idx_t row) {
  if (!valid(n, row)) return std::monostate{};
  switch (n.type->id) {
    case DUCKDB_TYPE_BOOLEAN: return at<bool>(n, row);
    case DUCKDB_TYPE_TINYINT: return std::int64_t{at<std::int8_t>(n, row)};
    case DUCKDB_TYPE_SMALLINT: return std::int64_t{at<std::int16_t>(n, row)};
    case DUCKDB_TYPE_INTEGER: return std::int64_t{at<std::int32_t>(n, row)};
    case DUCKDB_TYPE_BIGINT: return at<std::int64_t>(n, row);
    case DUCKDB_TYPE_UTINYINT: return std::uint64_t{at<std::uint8_t>(n, row)};
    case DUCKDB_TYPE_USMALLINT: return std::uint64_t{at<std::uint16_t>(n, row)};
    case DUCKDB_TYPE_UINTEGER: return std::uint64_t{at<std::uint32_t>(n, row)};
    case DUCKDB_TYPE_UBIGINT: return at<std::uint64_t>(n, row);
    case DUCKDB_TYPE_HUGEINT: return HugeInt{hugeint_value(at<duckdb_hugeint>(n, row))};
    case DUCKDB_TYPE_UHUGEINT:
      return uint128_to_string(uhugeint_value(at<duckdb_uhugeint>(n, row)));
    case DUCKDB_TYPE_FLOAT: return double{at<float>(n, row)};
    case DUCKDB_TYPE_DOUBLE: return at<double>(n, row);
    case DUCKDB_TYPE_DECIMAL: return decimal_at(n, row);
    case DUCKDB_TYPE_VARCHAR: return std::string(string_at(n, row));
    case DUCKDB_TYPE_ENUM: return std::string(enum_at(n, row));
    case DUCKDB_TYPE_BLOB: return Blob{std::string(string_at(n, row))};
    case DUCKDB_TYPE_DATE: return Date{at<std::int32_t>(n, row)};
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: return Timestamp{timestamp_micros_at(n, row)};
    case DUCKDB_TYPE_TIMESTAMP_TZ: return TimestampTz{at<std::int64_t>(n, row)};
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIME_TZ:
    case DUCKDB_TYPE_INTERVAL:
    case DUCKDB_TYPE_UUID: return scalar_text(n, row);
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
    case DUCKDB_TYPE_MAP: {
      const ListEntry e = list_entry_at(n, row);
      List list;
      list.items.reserve(e.length);
      for (std::uint64_t i = 0; i < e.length; ++i) {
        list.items.push_back(value_at(n.children[0], e.offset + i));
      }
      return list;
    }
    case DUCKDB_TYPE_STRUCT: {
      Struct s;
      s.fields.reserve(n.children.size());
      for (std::size_t i = 0; i < n.children.size(); ++i) {
        s.fields.emplace_back(n.type->field_names[i], value_at(n.children[i], row));
      }
      return s;
    }
    default: unsupported(n);
  }
}

}  // namespace

// ---- VectorReader ----

duckdb_type VectorReader::type_id() const {
  return node_->type->id;
}
const std::string& VectorReader::type_name() const {
  return node_->type->name;
}
idx_t VectorReader::size() const {
  return node_->size;
}

bool VectorReader::is_null(idx_t row) const {
  check_row(*node_, row);
  return !valid(*node_, row);
}

bool VectorReader::get_bool(idx_t row) const {
  check_value(*node_, row);
  if (node_->type->id != DUCKDB_TYPE_BOOLEAN) wrong_type(*node_, "BOOLEAN");
  return at<bool>(*node_, row);
}

std::int32_t VectorReader::get_int32(idx_t row) const {
  return checked_integer<std::int32_t>(*node_, row, "INTEGER");
}

std::int64_t VectorReader::get_int64(idx_t row) const {
  return checked_integer<std::int64_t>(*node_, row, "BIGINT");
}

std::uint64_t VectorReader::get_uint64(idx_t row) const {
  return checked_integer<std::uint64_t>(*node_, row, "UBIGINT");
}

double VectorReader::get_double(idx_t row) const {
  check_value(*node_, row);
  switch (node_->type->id) {
    case DUCKDB_TYPE_FLOAT: return at<float>(*node_, row);
    case DUCKDB_TYPE_DOUBLE: return at<double>(*node_, row);
    case DUCKDB_TYPE_DECIMAL: return decimal_at(*node_, row).to_double();
    default: {
      Int128 v = 0;
      if (!integer_at(*node_, row, v)) wrong_type(*node_, "DOUBLE");
      return static_cast<double>(v);
    }
  }
}

std::string_view VectorReader::get_string_view(idx_t row) const {
  check_value(*node_, row);
  switch (node_->type->id) {
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: return string_at(*node_, row);
    case DUCKDB_TYPE_ENUM: return enum_at(*node_, row);
    default: wrong_type(*node_, "VARCHAR");
  }
}

Date VectorReader::get_date(idx_t row) const {
  check_value(*node_, row);
  if (node_->type->id != DUCKDB_TYPE_DATE) wrong_type(*node_, "DATE");
  return Date{at<std::int32_t>(*node_, row)};
}

Timestamp VectorReader::get_timestamp(idx_t row) const {
  check_value(*node_, row);
  return Timestamp{timestamp_micros_at(*node_, row)};
}

Decimal VectorReader::get_decimal(idx_t row) const {
  check_value(*node_, row);
  if (node_->type->id != DUCKDB_TYPE_DECIMAL) wrong_type(*node_, "DECIMAL");
  return decimal_at(*node_, row);
}

HugeInt VectorReader::get_hugeint(idx_t row) const {
  check_value(*node_, row);
  Int128 v = 0;
  if (!integer_at(*node_, row, v)) wrong_type(*node_, "HUGEINT");
  return HugeInt{v};
}

ListEntry VectorReader::get_list(idx_t row) const {
  check_value(*node_, row);
  const duckdb_type id = node_->type->id;
  if (id != DUCKDB_TYPE_LIST && id != DUCKDB_TYPE_MAP && id != DUCKDB_TYPE_ARRAY) {
    wrong_type(*node_, "LIST");
  }
  return list_entry_at(*node_, row);
}

VectorReader VectorReader::list_child() const {
  const duckdb_type id = node_->type->id;
  if (id != DUCKDB_TYPE_LIST && id != DUCKDB_TYPE_MAP && id != DUCKDB_TYPE_ARRAY) {
    wrong_type(*node_, "LIST");
  }
  return VectorReader(&node_->children.at(0));
}

idx_t VectorReader::field_count() const {
  if (node_->type->id != DUCKDB_TYPE_STRUCT) wrong_type(*node_, "STRUCT");
  return node_->children.size();
}

const std::string& VectorReader::field_name(idx_t field) const {
  if (field >= field_count()) {
    throw Error(ErrorCode::internal,
                "field " + std::to_string(field) + " is out of range for " + node_->type->name);
  }
  return node_->type->field_names[field];
}

VectorReader VectorReader::field(idx_t field) const {
  if (field >= field_count()) {
    throw Error(ErrorCode::internal,
                "field " + std::to_string(field) + " is out of range for " + node_->type->name);
  }
  return VectorReader(&node_->children[field]);
}

Value VectorReader::get_value(idx_t row) const {
  check_row(*node_, row);
  return value_at(*node_, row);
}

std::string VectorReader::to_text(idx_t row) const {
  check_row(*node_, row);
  std::string out;
  append_text(out, *node_, row, false);
  return out;
}

// ---- DataChunk ----

DataChunk::DataChunk(duckdb_data_chunk chunk, std::shared_ptr<const std::vector<TypeInfo>> types)
    : state_(std::make_unique<State>()) {
  state_->chunk = chunk;
  state_->types = std::move(types);
  state_->size = duckdb_data_chunk_get_size(chunk);
  const idx_t columns = duckdb_data_chunk_get_column_count(chunk);
  if (columns != state_->types->size()) {
    throw Error(ErrorCode::internal, "chunk has " + std::to_string(columns) +
                                         " columns but the result declares " +
                                         std::to_string(state_->types->size()));
  }
  state_->columns.reserve(columns);
  for (idx_t c = 0; c < columns; ++c) {
    state_->columns.push_back(
        build_node(duckdb_data_chunk_get_vector(chunk, c), (*state_->types)[c], state_->size));
  }
}

DataChunk::~DataChunk() = default;
DataChunk::DataChunk(DataChunk&& other) noexcept = default;
DataChunk& DataChunk::operator=(DataChunk&& other) noexcept = default;

idx_t DataChunk::size() const {
  return state_->size;
}
idx_t DataChunk::column_count() const {
  return state_->columns.size();
}

VectorReader DataChunk::column(idx_t col) const {
  if (col >= state_->columns.size()) {
    throw Error(ErrorCode::internal, "column " + std::to_string(col) +
                                         " is out of range; the chunk has " +
                                         std::to_string(state_->columns.size()) + " columns");
  }
  return VectorReader(&state_->columns[col]);
}

}  // namespace duckmesh::duck
